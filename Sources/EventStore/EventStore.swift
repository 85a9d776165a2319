import Foundation
import Metrics
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
    private let batcher: AppendBatcher

    public init(client: PostgresClient, logger: Logger = Logger(label: "baton.eventstore")) {
        self.client = client
        self.logger = logger
        batcher = AppendBatcher(client: client)
    }

    // MARK: - Append

    /// Appends `events` to `stream` if its version is as expected, in one transaction.
    ///
    /// Appends that arrive while another is being written are grouped and committed
    /// together (each still checked and answered on its own), so concurrent writers share
    /// commits instead of queueing for the log head one commit at a time.
    ///
    /// - Parameter commandId: the command the events come from. A second append with the same
    ///   id appends nothing and returns the first append's result (`isDuplicate` set), also
    ///   across reconnects and restarts.
    /// - Throws: ``WrongExpectedVersion`` when another writer got there first.
    public func append(
        to stream: String, expectedVersion: ExpectedVersion, events: [NewEvent], commandId: UUID? = nil
    ) async throws -> AppendResult {
        precondition(!events.isEmpty, "an append needs at least one event")
        let start = ContinuousClock.now
        defer { Self.appendDuration.recordNanoseconds(Self.nanoseconds(since: start)) }
        return try await batcher.submit(
            Append(to: stream, expectedVersion: expectedVersion, events: events, commandId: commandId))
    }

    /// How long appends take, from the call to the commit (`baton_event_store_append_duration`).
    static let appendDuration = Timer(label: "baton_event_store_append_duration")

    static func nanoseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
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
        let request = Append(to: stream, expectedVersion: expectedVersion, events: events, commandId: commandId)
        return try await Self.execute([request], on: connection)[0].get()
    }

    /// One append: events for one stream, with the version it is expected to have, and
    /// the command they come from, if any. See ``append(_:on:)``.
    public struct Append: Sendable {
        public var stream: String
        public var expectedVersion: ExpectedVersion
        public var events: [NewEvent]
        public var commandId: UUID?

        public init(to stream: String, expectedVersion: ExpectedVersion, events: [NewEvent], commandId: UUID? = nil) {
            self.stream = stream
            self.expectedVersion = expectedVersion
            self.events = events
            self.commandId = commandId
        }
    }

    /// Makes several appends, to different streams, in one statement inside the caller's
    /// transaction on `connection`: one result per append, in order. A version conflict fails
    /// only its own append (``WrongExpectedVersion``); the others are made.
    ///
    /// As with ``append(to:expectedVersion:events:commandId:on:)``, the log's head lock is
    /// held until the transaction ends: append last and commit promptly.
    public func append(_ appends: [Append], on connection: PostgresConnection) async throws -> [Result<AppendResult, any Error>] {
        guard !appends.isEmpty else { return [] }
        precondition(appends.allSatisfy { !$0.events.isEmpty }, "an append needs at least one event")
        return try await Self.execute(appends, on: connection)
    }

    /// ``append(_:on:)`` within a ``PostgresSession``: for a transaction that runs its
    /// statements in one hop to the thread pool.
    public func append(_ appends: [Append], in session: PostgresSession) throws -> [Result<AppendResult, any Error>] {
        guard !appends.isEmpty else { return [] }
        precondition(appends.allSatisfy { !$0.events.isEmpty }, "an append needs at least one event")
        return try Self.execute(appends, in: session)
    }

    /// Runs several appends in one statement on `connection`; one result per request, in
    /// order. A version conflict fails only its own request.
    static func execute(_ requests: [Append], on connection: PostgresConnection) async throws -> [Result<AppendResult, any Error>] {
        try await connection.withSession { try execute(requests, in: $0) }
    }

    static func execute(_ requests: [Append], in session: PostgresSession) throws -> [Result<AppendResult, any Error>] {
        try results(of: requests, from: session.query(statement(for: requests)))
    }

    /// The statement that makes `appends`, for a caller that sends it with other statements
    /// in one round trip (``PostgresSession/pipeline(_:)``), inside its transaction as with
    /// ``append(_:in:)``; ``appendResults(_:from:)`` reads its answer.
    public func appendStatement(_ appends: [Append]) -> PostgresQuery {
        precondition(!appends.isEmpty && appends.allSatisfy { !$0.events.isEmpty }, "an append needs at least one event")
        return Self.statement(for: appends)
    }

    /// What ``appendStatement(_:)`` answered: one result per append, in order, as
    /// ``append(_:in:)`` returns them.
    public func appendResults(_ appends: [Append], from rows: PostgresRows) throws -> [Result<AppendResult, any Error>] {
        try Self.results(of: appends, from: rows)
    }

    private static func statement(for requests: [Append]) -> PostgresQuery {
        var kinds: [String] = []
        var expected: [Int64] = []
        for request in requests {
            switch request.expectedVersion {
            case .any: kinds.append("any"); expected.append(0)
            case .noStream: kinds.append("no_stream"); expected.append(0)
            case .exact(let version): kinds.append("exact"); expected.append(version)
            }
        }
        let events = requests.flatMap(\.events)
        let contentHashes = requests.flatMap { request in
            request.events.map { PostgresBytes(ContentHash.compute(event: $0, stream: request.stream, commandId: request.commandId)) }
        }
        return """
            SELECT append_index, out_position, stream_version, duplicate, conflict, actual FROM event_store_append(
                \(requests.map(\.stream)), \(kinds), \(expected), \(requests.map(\.commandId)),
                \(requests.map { Int32($0.events.count) }),
                \(events.map(\.id)), \(events.map(\.type)), \(events.map { Int32($0.schemaVersion) }),
                \(events.map { PostgresRawJSON(bytes: $0.data) }), \(events.map { PostgresTimestamp($0.occurredAt) }),
                \(events.map(\.actor)), \(events.map(\.correlationId)), \(events.map(\.causationId)),
                \(contentHashes))
            """
    }

    private static func results(of requests: [Append], from rows: PostgresRows) throws -> [Result<AppendResult, any Error>] {
        var results = requests.map { AppendResult(stream: $0.stream, positions: [], streamVersion: 0, isDuplicate: false) }
        var conflicts: [Int: WrongExpectedVersion] = [:]
        for row in rows {
            let index = try row.decode(Int.self, at: 0) - 1
            if try row.decode(Bool.self, at: 4) {
                conflicts[index] = WrongExpectedVersion(
                    stream: requests[index].stream, expected: requests[index].expectedVersion,
                    actual: try row.decode(Int64?.self, at: 5))
                continue
            }
            results[index].positions.append(try row.decode(Int64.self, at: 1))
            results[index].streamVersion = max(results[index].streamVersion, try row.decode(Int64.self, at: 2))
            results[index].isDuplicate = try row.decode(Bool.self, at: 3)
        }
        return results.indices.map { index in
            if let conflict = conflicts[index] { return .failure(conflict) }
            return .success(results[index])
        }
    }

    // MARK: - Reads
    //
    // Limits are written into the statements, not bound: a prepared statement whose limit is
    // a parameter looks costlier as a generic plan and is planned afresh on every run.

    /// The events of `stream` from `version` (inclusive, from 1), at most `limit` of them.
    public func readStream(_ stream: String, fromVersion version: Int64 = 1, limit: Int = 10_000) async throws -> [RecordedEvent] {
        try await client.query("""
            SELECT \(unescaped: RecordedEvent.columns) FROM events
            WHERE stream = \(stream) AND stream_version >= \(version)
            ORDER BY stream_version LIMIT \(unescaped: String(limit))
            """
        ).map(RecordedEvent.init(row:))
    }

    /// Every event of the given streams up to global position `position` (inclusive),
    /// ordered by stream then version: one query for what a batch of events touched.
    public func readStreams(_ streams: [String], upTo position: Int64, on connection: PostgresConnection) async throws -> [RecordedEvent] {
        guard !streams.isEmpty else { return [] }
        return try await connection.withSession { [self] in try readStreams(streams, upTo: position, in: $0) }
    }

    /// ``readStreams(_:upTo:on:)`` within a ``PostgresSession``.
    public func readStreams(_ streams: [String], upTo position: Int64, in session: PostgresSession) throws -> [RecordedEvent] {
        guard !streams.isEmpty else { return [] }
        // `position + 0`: the bound is a filter on the few events of these streams, never an
        // index condition. Given the choice, PostgreSQL ANDed a bitmap of every position up
        // to the bound (nearly the whole log) with the streams' bitmap, on every batch.
        return try session.query("""
            SELECT \(unescaped: RecordedEvent.columns) FROM events
            WHERE stream = ANY(\(streams)) AND position + 0 <= \(position)
            ORDER BY stream, stream_version
            """
        ).map(RecordedEvent.init(row:))
    }

    /// The events of each stream after its version `afterVersion`, up to global position
    /// `position` (inclusive), ordered by stream and version: one index probe per stream, at
    /// the version it reads from.
    public func readStreamTails(
        _ tails: [(stream: String, afterVersion: Int64)], upTo position: Int64, on connection: PostgresConnection
    ) async throws -> [RecordedEvent] {
        guard !tails.isEmpty else { return [] }
        return try await connection.withSession { [self] in try readStreamTails(tails, upTo: position, in: $0) }
    }

    /// ``readStreamTails(_:upTo:on:)`` within a ``PostgresSession``.
    public func readStreamTails(
        _ tails: [(stream: String, afterVersion: Int64)], upTo position: Int64, in session: PostgresSession
    ) throws -> [RecordedEvent] {
        guard !tails.isEmpty else { return [] }
        return try session.query("""
            SELECT \(unescaped: RecordedEvent.columns)
            FROM unnest(\(tails.map(\.stream))::text[], \(tails.map(\.afterVersion))::bigint[]) AS t(tail_stream, after_version)
            JOIN events ON stream = tail_stream AND stream_version > after_version
            WHERE position + 0 <= \(position)
            ORDER BY stream, stream_version
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
            WHERE position > \(position) ORDER BY position LIMIT \(unescaped: String(limit))
            """
        ).map(RecordedEvent.init(row:))
    }

    /// Every event after `position`, as batches of at most `batchSize`, reading one batch
    /// at a time so memory stays flat however long the log. Ends at the head as it stood
    /// when each batch was read.
    public func readAll(after position: Int64 = 0, batchSize: Int = 1_000) -> EventBatches {
        EventBatches(store: self, after: position, batchSize: batchSize)
    }

    /// The events a command appended, in order; empty when no append named this command id.
    public func events(ofCommand commandId: UUID) async throws -> [RecordedEvent] {
        try await client.query("""
            SELECT \(unescaped: RecordedEvent.columns) FROM events WHERE command_id = \(commandId) ORDER BY position
            """).map(RecordedEvent.init(row:))
    }

    /// The position of the last event in the log (0 when empty).
    public func headPosition() async throws -> Int64 {
        try await client.withConnection { try await headPosition(on: $0) }
    }

    /// The position of the last event in the log, read on `connection`.
    public func headPosition(on connection: PostgresConnection) async throws -> Int64 {
        try await connection.query("SELECT position FROM event_log_head").first?.decode(Int64.self, at: 0) ?? 0
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
