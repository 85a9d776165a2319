import Foundation
import Logging
import Postgres

/// The event log on PostgreSQL: append with an expected version, idempotent retries, reads
/// in global order, catch-up subscriptions and a verifiable hash chain.
///
/// The guarantees live in the schema (`schema/0001_event_store.sql`): exactly one of several
/// concurrent writers with the same expected version wins; positions are assigned in commit
/// order with no gaps, so a reader that has seen position P never later sees a lower one.
public final class EventStore: Sendable {
    /// The channel the store NOTIFYs (payload: the last appended position) on every append.
    public static let notificationChannel = "baton_events"

    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger = Logger(label: "baton.eventstore")) {
        self.client = client
        self.logger = logger
    }

    // MARK: - Append

    /// Appends `events` to `stream` if its version is as expected, in one transaction.
    ///
    /// - Parameter commandId: the command the events come from. A second append with the same
    ///   id appends nothing and returns the first append's result (`isDuplicate` set), also
    ///   across reconnects and restarts.
    /// - Throws: ``WrongExpectedVersion`` when another writer got there first.
    public func append(
        to stream: String, expectedVersion: ExpectedVersion, events: [NewEvent], commandId: UUID? = nil
    ) async throws -> AppendResult {
        try await client.withConnection { connection in
            try await append(to: stream, expectedVersion: expectedVersion, events: events, commandId: commandId, on: connection)
        }
    }

    /// Appends inside the caller's transaction on `connection`, so other writes can commit
    /// atomically with the events.
    ///
    /// The append holds the log's head lock until the transaction ends, which serialises all
    /// appenders: append last and commit promptly.
    public func append(
        to stream: String, expectedVersion: ExpectedVersion, events: [NewEvent], commandId: UUID? = nil,
        on connection: PostgresConnection
    ) async throws -> AppendResult {
        precondition(!events.isEmpty, "an append needs at least one event")
        let (kind, expected): (String, Int64) =
            switch expectedVersion {
            case .any: ("any", 0)
            case .noStream: ("no_stream", 0)
            case .exact(let version): ("exact", version)
            }
        let contentHashes = events.map {
            PostgresBytes(ContentHash.compute(event: $0, stream: stream, commandId: commandId))
        }
        let query: PostgresQuery = """
            SELECT out_position, out_stream_version, out_duplicate FROM event_store_append(
                \(stream), \(kind), \(expected), \(commandId),
                \(events.map(\.id)), \(events.map(\.type)), \(events.map { Int32($0.schemaVersion) }),
                \(events.map { PostgresRawJSON(bytes: $0.data) }), \(events.map { PostgresTimestamp($0.occurredAt) }),
                \(events.map(\.actor)), \(events.map(\.correlationId)), \(events.map(\.causationId)),
                \(contentHashes))
            """
        let rows: PostgresRows
        do {
            rows = try await connection.query(query)
        } catch let error as PostgresError where error.sqlState == "BAT02" {
            throw WrongExpectedVersion(stream: stream, expected: expectedVersion, actual: error.detail.flatMap { Int64($0) })
        }
        var positions: [Int64] = []
        var version: Int64 = 0
        var duplicate = false
        for row in rows {
            positions.append(try row.decode(Int64.self, at: 0))
            version = try row.decode(Int64.self, at: 1)
            duplicate = try row.decode(Bool.self, at: 2)
        }
        return AppendResult(stream: stream, positions: positions, streamVersion: version, isDuplicate: duplicate)
    }

    // MARK: - Reads

    /// The events of `stream` from `version` (inclusive, from 1), at most `limit` of them.
    public func readStream(_ stream: String, fromVersion version: Int64 = 1, limit: Int = 10_000) async throws -> [RecordedEvent] {
        try await client.query("""
            SELECT \(unescaped: RecordedEvent.columns) FROM events
            WHERE stream = \(stream) AND stream_version >= \(version)
            ORDER BY stream_version LIMIT \(limit)
            """
        ).map(RecordedEvent.init(row:))
    }

    /// Up to `limit` events after global position `position` (exclusive), in order.
    public func readAll(after position: Int64, limit: Int) async throws -> [RecordedEvent] {
        try await client.withConnection { try await readAll(after: position, limit: limit, on: $0) }
    }

    /// As ``readAll(after:limit:)``, on the caller's connection (inside its transaction).
    public func readAll(after position: Int64, limit: Int, on connection: PostgresConnection) async throws -> [RecordedEvent] {
        try await connection.query("""
            SELECT \(unescaped: RecordedEvent.columns) FROM events
            WHERE position > \(position) ORDER BY position LIMIT \(limit)
            """
        ).map(RecordedEvent.init(row:))
    }

    /// Every event after `position`, as batches of at most `batchSize`, reading one batch
    /// at a time so memory stays flat however long the log. Ends at the head as it stood
    /// when each batch was read.
    public func readAll(after position: Int64 = 0, batchSize: Int = 1_000) -> EventBatches {
        EventBatches(store: self, after: position, batchSize: batchSize)
    }

    /// The position of the last event in the log (0 when empty).
    public func headPosition() async throws -> Int64 {
        try await client.query("SELECT position FROM event_log_head").first?.decode(Int64.self, at: 0) ?? 0
    }

    /// The stream's version (its number of events), or `nil` when it does not exist.
    public func streamVersion(_ stream: String) async throws -> Int64? {
        try await client.query("SELECT version FROM event_streams WHERE stream = \(stream)").first?.decode(Int64.self, at: 0)
    }
}

/// Batches of events in global order; see ``EventStore/readAll(after:batchSize:)``.
public struct EventBatches: AsyncSequence, Sendable {
    public typealias Element = [RecordedEvent]

    let store: EventStore
    let after: Int64
    let batchSize: Int

    public struct AsyncIterator: AsyncIteratorProtocol {
        let store: EventStore
        var after: Int64
        let batchSize: Int
        var finished = false

        public mutating func next() async throws -> [RecordedEvent]? {
            guard !finished else { return nil }
            let batch = try await store.readAll(after: after, limit: batchSize)
            guard let last = batch.last else {
                finished = true
                return nil
            }
            after = last.position
            if batch.count < batchSize { finished = true }
            return batch
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(store: store, after: after, batchSize: batchSize)
    }
}
