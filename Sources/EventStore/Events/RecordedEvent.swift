import Foundation
import Postgres

/// An event as stored, with everything the store added.
public struct RecordedEvent: Sendable, Equatable {
    /// The event's place in the global log: 1, 2, 3, … with no gaps, in commit order.
    public var position: Int64
    public var id: UUID
    public var stream: String
    /// The event's place in its stream, from 1.
    public var streamVersion: Int64
    public var type: String
    public var schemaVersion: Int
    /// The JSON document as it was appended.
    public var data: [UInt8]
    public var occurredAt: Date
    /// When the store took it.
    public var recordedAt: Date
    public var actor: String
    public var correlationId: UUID?
    public var causationId: UUID?
    /// The command that appended it, when the appender named one.
    public var commandId: UUID?
    /// SHA-256 of the event's content, then of the chain up to it.
    public var contentHash: [UInt8]
    public var hash: [UInt8]

    /// Decodes the data as `Payload` (JSON).
    public func decode<Payload: Decodable>(_ type: Payload.Type = Payload.self) throws -> Payload {
        try EventJSON.decoder.decode(Payload.self, from: Data(data))
    }

    /// The `events` columns ``init(row:)`` reads, in order, for `SELECT \(unescaped: columns)`.
    public static let columns = """
        position, event_id, stream, stream_version, type, schema_version, data, occurred_at, \
        recorded_at, actor, correlation_id, causation_id, command_id, content_hash, hash
        """

    /// Reads a row selected with ``columns``.
    public init(row: PostgresRow) throws {
        position = try row.decode(Int64.self, at: 0)
        id = try row.decode(UUID.self, at: 1)
        stream = try row.decode(String.self, at: 2)
        streamVersion = try row.decode(Int64.self, at: 3)
        type = try row.decode(String.self, at: 4)
        schemaVersion = try row.decode(Int.self, at: 5)
        data = try row.decode(PostgresRawJSON.self, at: 6).bytes
        occurredAt = try row.decode(Date.self, at: 7)
        recordedAt = try row.decode(Date.self, at: 8)
        actor = try row.decode(String.self, at: 9)
        correlationId = try row.decode(UUID?.self, at: 10)
        causationId = try row.decode(UUID?.self, at: 11)
        commandId = try row.decode(UUID?.self, at: 12)
        contentHash = try row.decode(PostgresBytes.self, at: 13).bytes
        hash = try row.decode(PostgresBytes.self, at: 14).bytes
    }
}

/// The outcome of an append.
public struct AppendResult: Sendable, Equatable {
    public var stream: String
    /// The global positions of the appended events, in order.
    public var positions: [Int64]
    /// The stream's version after the append (the last event's stream version).
    public var streamVersion: Int64
    /// True when the command had been applied before: nothing was appended, and the
    /// positions are those of the first append.
    public var isDuplicate: Bool
}
