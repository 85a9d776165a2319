import Foundation

/// An event to append: what happened, to be stored with its metadata.
public struct NewEvent: Sendable, Equatable {
    /// Globally unique; the store rejects a second event with the same id.
    public var id: UUID
    /// The event's type name, a past-tense fact (`TicketRouted`).
    public var type: String
    /// The version of `type`'s data layout; readers use it to decode old events.
    public var schemaVersion: Int
    /// The event's data, a JSON document, stored and hashed byte for byte.
    public var data: [UInt8]
    /// When it happened in the domain (an import may set this in the past).
    public var occurredAt: Date
    /// Who did it: `system`, `ingest:<source>`, `agent:<login>`, `vendor:<id>`, `admin:<login>`.
    public var actor: String
    /// The id shared by every event of one business flow.
    public var correlationId: UUID?
    /// The id of the event or command that caused this one.
    public var causationId: UUID?

    public init(
        id: UUID = .timeOrdered(), type: String, schemaVersion: Int = 1, data: [UInt8], occurredAt: Date,
        actor: String, correlationId: UUID? = nil, causationId: UUID? = nil
    ) {
        self.id = id
        self.type = type
        self.schemaVersion = schemaVersion
        self.data = data
        self.occurredAt = occurredAt
        self.actor = actor
        self.correlationId = correlationId
        self.causationId = causationId
    }

    /// An event whose data is `payload` encoded as JSON (keys sorted, so equal payloads
    /// give equal bytes).
    public init<Payload: Encodable>(
        id: UUID = .timeOrdered(), type: String, schemaVersion: Int = 1, payload: Payload, occurredAt: Date,
        actor: String, correlationId: UUID? = nil, causationId: UUID? = nil
    ) throws {
        self.init(
            id: id, type: type, schemaVersion: schemaVersion, data: Array(try EventJSON.encoder.encode(payload)),
            occurredAt: occurredAt, actor: actor, correlationId: correlationId, causationId: causationId)
    }
}

enum EventJSON {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

extension Sequence<NewEvent> {
    /// The size of the events' data, as stored.
    public var dataBytes: Int { reduce(0) { $0 + $1.data.count } }
}
