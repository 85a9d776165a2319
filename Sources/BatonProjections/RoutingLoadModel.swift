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
    func write(suffix: String, on connection: PostgresConnection) async throws {
        let open = self.open.filter { $0.value != 0 }, intake = self.intake.filter { $0.value != 0 }
        if !open.isEmpty {
            let keys = Array(open.keys)
            _ = try await connection.execute("""
                INSERT INTO \(unescaped: "rm_queue_load\(suffix)") AS t (agreement_id, queue, open_tickets)
                SELECT * FROM unnest(\(keys.map(\.agreementId))::text[], \(keys.map(\.queue))::text[], \(keys.map { open[$0]! })::integer[])
                ON CONFLICT (agreement_id, queue) DO UPDATE SET open_tickets = t.open_tickets + EXCLUDED.open_tickets
                """)
            _ = try await connection.execute("DELETE FROM \(unescaped: "rm_queue_load\(suffix)") WHERE open_tickets = 0")
        }
        if !intake.isEmpty {
            let keys = Array(intake.keys)
            _ = try await connection.execute("""
                INSERT INTO \(unescaped: "rm_agreement_intake\(suffix)") AS t (agreement_id, month, tickets)
                SELECT * FROM unnest(\(keys.map(\.agreementId))::text[], \(keys.map(\.month))::text[], \(keys.map { intake[$0]! })::integer[])
                ON CONFLICT (agreement_id, month) DO UPDATE SET tickets = t.tickets + EXCLUDED.tickets
                """)
            _ = try await connection.execute("DELETE FROM \(unescaped: "rm_agreement_intake\(suffix)") WHERE tickets = 0")
        }
    }
}
