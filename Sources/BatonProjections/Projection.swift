import EventStore
import Postgres

/// A read model kept up to date from the event log.
///
/// ``ProjectionRunner`` hands a projection the events after its checkpoint in batches, each
/// inside the transaction that also moves the checkpoint, so a batch is applied exactly once
/// or not at all. A projection must be deterministic in the events it is given: rebuilding
/// from position 0 gives the same tables as having followed the log live.
public protocol Projection: Sendable {
    /// The checkpoint name and the name people use (`batond projections rebuild NAME`).
    var name: String { get }
    /// The tables the projection writes. A rebuild builds `<table>_next` copies and swaps
    /// them in.
    var tables: [String] { get }
    /// Applies a batch (ordered by position, never empty) to the tables named `<table><suffix>`.
    func apply(_ events: [RecordedEvent], on connection: PostgresConnection, suffix: String) async throws
    /// The part of applying a batch that writes nothing (reading the log, folding), done
    /// ahead: a rebuild prepares later batches while it writes this one. The batch must
    /// then be written after every batch before it. By default nothing is done ahead.
    func prepare(_ events: [RecordedEvent], on connection: PostgresConnection, suffix: String) async throws -> any PreparedBatch
    /// Prepares a batch of a rebuild that reads the log up to `head` (inclusive); the events
    /// after `head` are then applied with ``apply(_:on:suffix:)``. A projection whose rows
    /// each fold one stream can fold each stream once, up to `head`, in the batch where it
    /// starts. By default this is ``prepare(_:on:suffix:)``.
    func prepareRebuild(_ events: [RecordedEvent], head: Int64, on connection: PostgresConnection, suffix: String) async throws -> any PreparedBatch
    /// The tables that batches from ``prepareRebuild(_:head:on:suffix:)`` only ever insert
    /// into, once per key: a rebuild fills them without their unique indexes and
    /// constraints, and adds those after the load. By default none.
    var rebuildInsertOnlyTables: Set<String> { get }
}

/// A batch ready to be written to a projection's tables.
public protocol PreparedBatch: Sendable {
    func write(on connection: PostgresConnection, suffix: String) async throws
    /// Parts that touch disjoint tables and may be written in separate transactions at the
    /// same time (a rebuild does, into its fresh tables); together they write what ``write(on:suffix:)``
    /// writes. By default the batch is one part.
    var independentParts: [any PreparedBatch] { get }
}

extension PreparedBatch {
    public var independentParts: [any PreparedBatch] { [self] }
}

extension Projection {
    public func prepareRebuild(_ events: [RecordedEvent], head: Int64, on connection: PostgresConnection, suffix: String) async throws -> any PreparedBatch {
        try await prepare(events, on: connection, suffix: suffix)
    }

    public var rebuildInsertOnlyTables: Set<String> { [] }

    public func prepare(_ events: [RecordedEvent], on connection: PostgresConnection, suffix: String) async throws -> any PreparedBatch {
        Unprepared(projection: self, events: events)
    }
}

/// A batch a projection applies whole when it is written.
private struct Unprepared: PreparedBatch {
    let projection: any Projection
    let events: [RecordedEvent]

    func write(on connection: PostgresConnection, suffix: String) async throws {
        try await projection.apply(events, on: connection, suffix: suffix)
    }
}

/// Every projection batond runs.
public enum Projections {
    /// `histories`: where the tickets projection keeps the streams it folds.
    public static func all(store: EventStore, histories: TicketHistories = TicketHistories()) -> [any Projection] {
        [TicketsProjection(store: store, histories: histories)]
    }
}
