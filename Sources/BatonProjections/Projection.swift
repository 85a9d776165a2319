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
}

/// Every projection batond runs.
public enum Projections {
    public static func all(store: EventStore) -> [any Projection] {
        [TicketsProjection(store: store)]
    }
}
