import BatonProjections
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Lease candidates")
struct LeaseCandidatesTests {
    @Test("candidates come from the lease index, in urgency order, past leased tickets, even when statistics predate the leases")
    func fromTheLeaseIndex() async throws {
        try await TestDatabase.withFresh(maximumConnections: 2) { db async throws in
            // Statistics from a year of closed tickets in another queue (as after a rebuild);
            // then 20,000 queued tickets arrive, due a minute apart (every tenth with no due
            // instant), and the 5,000 most urgent are leased.
            try await db.client.execute("""
                INSERT INTO rm_tickets (ticket_id, number, status, priority, category, subject, requester, source, queue,
                                        opened_at, version, updated_at, last_position)
                SELECT gen_random_uuid(), 100000 + n, 'closed', 'P3', 'help-desk', 's', 'r', 'portal', 'northwind-l1',
                       now() - interval '1 year', 8, now(), n
                FROM generate_series(1, 60000) AS n
                """)
            try await db.client.execute("ANALYZE rm_tickets")
            try await db.client.execute("""
                INSERT INTO rm_tickets (ticket_id, number, status, priority, category, subject, requester, source, queue,
                                        opened_at, next_due_at, version, updated_at, last_position)
                SELECT gen_random_uuid(), n, 'queued', 'P3', 'help-desk', 's', 'r', 'portal', 'civicsoft-apps',
                       now(), CASE WHEN n % 10 = 0 THEN NULL ELSE now() + n * interval '1 minute' END, 2, now(), n
                FROM generate_series(1, 20000) AS n
                """)
            try await db.client.execute("""
                UPDATE rm_tickets SET lease_holder = 'vendor:civicsoft', lease_expires_at = now() + interval '30 minutes'
                WHERE number IN (SELECT number FROM rm_tickets WHERE next_due_at IS NOT NULL ORDER BY next_due_at LIMIT 5000)
                """)
            // Two of the tickets have streams in the log, ahead of the read model.
            try await db.client.execute("""
                INSERT INTO event_streams (stream, version)
                SELECT 'ticket-' || ticket_id, 3 FROM rm_tickets WHERE number IN (5556, 5558)
                """)
            let indexScans = {
                try await db.client.query("""
                    SELECT indexrelname, idx_scan FROM pg_stat_user_indexes
                    WHERE indexrelname IN ('rm_tickets_lease_order', 'rm_tickets_list_order')
                    """).reduce(into: [String: Int64]()) { $0[try $1.decode(String.self, at: 0)] = try $1.decode(Int64.self, at: 1) }
            }
            let before = try await indexScans()
            let queries = TicketQueries(client: db.client)
            for generic in [false, true] {
                let numbers = try await db.client.withConnection { connection in
                    try await connection.withSession { session in
                        try session.withTransaction(genericPlans: generic) { session in
                            let candidates = try queries.leaseCandidates(queues: ["civicsoft-apps"], limit: 5, now: Date(), in: session)
                            _ = try session.query("SELECT pg_stat_force_next_flush()")
                            return candidates.map { ($0.ticket.number, $0.streamVersion) }
                        }
                    }
                }
                // Due first (numbers 5,001 onwards, passing the tenths that have no due instant),
                // each with its stream's version in the log (0: no stream).
                #expect(numbers.map(\.0) == ["T-5556", "T-5557", "T-5558", "T-5559", "T-5561"])
                #expect(numbers.map(\.1) == [3, 0, 3, 0, 0])
            }
            var after = try await indexScans()
            for _ in 0..<50 where after == before {
                try await Task.sleep(for: .milliseconds(100))
                after = try await indexScans()
            }
            #expect(after["rm_tickets_lease_order", default: 0] - before["rm_tickets_lease_order", default: 0] == 2)
            #expect(after["rm_tickets_list_order"] == before["rm_tickets_list_order"])
        }
    }

    @Test("marking a lease brings the next deadline down to its end, and what it replaced is put back exactly where the projection has not rewritten the row")
    func markAndRestore() async throws {
        try await TestDatabase.withFresh(maximumConnections: 2) { db async throws in
            let now = Date(timeIntervalSince1970: 1_780_000_000)
            let soon = now.addingTimeInterval(600), later = now.addingTimeInterval(7_200)
            let ids = [UUID(), UUID()]
            // One ticket whose next deadline (an SLA alarm) comes after the lease's end, one before.
            for (n, (id, deadline)) in zip(ids, [later, now.addingTimeInterval(60)]).enumerated() {
                try await db.client.execute("""
                    INSERT INTO rm_tickets (ticket_id, number, status, priority, category, subject, requester, source, queue,
                                            opened_at, next_deadline_at, version, updated_at, last_position)
                    VALUES (\(id), \(Int64(n + 1)), 'queued', 'P3', 'help-desk', 's', 'r', 'portal', 'civicsoft-apps',
                            \(now), \(deadline), 2, \(now), \(Int64(n + 1)))
                    """)
            }
            let marks = {
                try await db.client.query("""
                    SELECT ticket_id, lease_holder, lease_expires_at, next_deadline_at, version FROM rm_tickets ORDER BY number
                    """).map {
                    TicketQueries.LeaseMark(
                        ticketId: try $0.decode(UUID.self, at: 0), holder: try $0.decode(String?.self, at: 1),
                        until: try $0.decode(Date?.self, at: 2), nextDeadline: try $0.decode(Date?.self, at: 3),
                        version: Int(try $0.decode(Int32.self, at: 4)))
                }
            }
            let original = try await marks()
            let queries = TicketQueries(client: db.client)
            let before = try await db.client.withConnection { connection in
                try await connection.withSession { session in
                    try session.withTransaction {
                        try queries.markLeased(ids.map { ($0, "vendor:civicsoft", soon) }, in: $0)
                    }
                }
            }
            #expect(before == Dictionary(uniqueKeysWithValues: original.map { ($0.ticketId, $0) }))
            let marked = try await marks()
            #expect(marked.map(\.holder) == ["vendor:civicsoft", "vendor:civicsoft"])
            #expect(marked.map(\.until) == [soon, soon])
            #expect(marked.map(\.nextDeadline) == [soon, now.addingTimeInterval(60)])

            // The projection rewrites the second ticket from a newer event before the marks are
            // put back: that row keeps what the projection wrote.
            try await db.client.execute("""
                UPDATE rm_tickets SET lease_holder = NULL, lease_expires_at = NULL, next_deadline_at = \(later), version = 3
                WHERE ticket_id = \(ids[1])
                """)
            let rewritten = try await marks()[1]
            try await db.client.withConnection { connection in
                try await connection.withSession { session in
                    try queries.restoreLeaseMarks(Array(before.values), in: session)
                }
            }
            #expect(try await marks() == [original[0], rewritten])
            #expect(rewritten != original[1])
        }
    }
}
