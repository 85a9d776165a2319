import Foundation
import Postgres

/// What one ticket counts toward routing's load: `rm_queue_load` while it is open in a
/// queue, `rm_agreement_intake` while it is placed with an agreement.
struct TicketLoad: Sendable {
    var agreementId: String?
    var queue: String?
    var status: String
    var queuedAt: Date?
}

extension TicketLoad {
    static let columns = "agreement_id, queue, status, queued_at"

    init(row: PostgresRow) throws {
        agreementId = try row.decode(String?.self, at: 0)
        queue = try row.decode(String?.self, at: 1)
        status = try row.decode(String.self, at: 2)
        queuedAt = try row.decode(Date?.self, at: 3)
    }
}

/// Changes to `rm_queue_load` and `rm_agreement_intake` over a batch: what each ticket's
/// row counted before, subtracted, and what it counts now, added.
struct LoadChanges {
    struct QueueKey: Hashable {
        var agreementId: String?
        var queue: String
    }

    struct IntakeKey: Hashable {
        var agreementId: String
        var month: String
    }

    private(set) var open: [QueueKey: Int32] = [:]
    private(set) var intake: [IntakeKey: Int32] = [:]

    mutating func add(_ load: TicketLoad, sign: Int32 = 1) {
        if let queue = load.queue, TicketQueries.openStatuses.contains(load.status) {
            open[QueueKey(agreementId: load.agreementId, queue: queue), default: 0] += sign
        }
        if let agreement = load.agreementId, let since = load.queuedAt {
            intake[IntakeKey(agreementId: agreement, month: since.utcMonth), default: 0] += sign
        }
    }

    /// Adds the changes to the tables (`suffix`: `_next` while rebuilding) and removes the
    /// rows that came to nothing.
    func write(suffix: String, in session: PostgresSession) throws {
        let open = self.open.filter { $0.value != 0 }, intake = self.intake.filter { $0.value != 0 }
        try Self.add(
            to: "rm_queue_load\(suffix)", keys: ("agreement_id", "queue"), count: "open_tickets",
            open.keys.map { ($0.agreementId, $0.queue, open[$0]!) }, in: session)
        try Self.add(
            to: "rm_agreement_intake\(suffix)", keys: ("agreement_id", "month"), count: "tickets",
            intake.keys.map { ($0.agreementId, $0.month, intake[$0]!) }, in: session)
    }

    /// Adds each change to its row of `table` (keyed by two text columns), then deletes the
    /// rows whose count is zero.
    private static func add(
        to table: String, keys: (String, String), count: String, _ changes: [(String?, String, Int32)],
        in session: PostgresSession
    ) throws {
        guard !changes.isEmpty else { return }
        try session.execute("""
            INSERT INTO \(unescaped: table) AS t (\(unescaped: keys.0), \(unescaped: keys.1), \(unescaped: count))
            SELECT * FROM unnest(\(changes.map(\.0))::text[], \(changes.map(\.1))::text[], \(changes.map(\.2))::integer[])
            ON CONFLICT (\(unescaped: keys.0), \(unescaped: keys.1)) DO UPDATE SET \(unescaped: count) = t.\(unescaped: count) + EXCLUDED.\(unescaped: count)
            """)
        try session.execute("DELETE FROM \(unescaped: table) WHERE \(unescaped: count) = 0")
    }
}
