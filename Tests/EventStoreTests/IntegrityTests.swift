import EventStore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("EventStore: hash chain")
struct IntegrityTests {
    /// Runs `sql` as the superuser with triggers switched off: tampering behind the log's back.
    func tamper(_ db: TestDatabase.Fresh, _ sql: String) async throws {
        try await db.client.withConnection { connection in
            try await connection.executeScript("SET session_replication_role = replica")
            try await connection.executeScript(sql)
            try await connection.executeScript("RESET session_replication_role")
        }
    }

    func fill(_ store: EventStore, count: Int) async throws {
        for n in 0..<count {
            _ = try await store.append(to: "ticket-\(n % 4)", expectedVersion: .any, events: [event("TicketCommented", "note \(n)")])
        }
    }

    @Test("an untouched log verifies as intact with its head hash")
    func intact() async throws {
        try await TestDatabase.withFresh { db async throws in
            try await fill(db.eventStore, count: 12)
            let report = try await db.eventStore.verify(batchSize: 5)
            #expect(report.isIntact)
            #expect(report.eventCount == 12)
            let head = try await db.client.query("SELECT hash FROM event_log_head")[0].decode(PostgresBytes.self, at: 0).bytes
            #expect(report.headHash == head)
            #expect(report.description == "intact, 12 events, head hash \(head.hexString)")
            let empty = try await TestDatabase.withFresh { try await $0.eventStore.verify() }
            #expect(empty.description.hasPrefix("intact, 0 events"))
        }
    }

    @Test("an event changed behind the triggers' back is named by its position")
    func tamperedData() async throws {
        try await TestDatabase.withFresh { db async throws in
            try await fill(db.eventStore, count: 10)
            try await tamper(db, #"UPDATE events SET data = '{"body":"forged"}' WHERE position = 7"#)
            let report = try await db.eventStore.verify(batchSize: 3)
            #expect(report.firstBreak?.position == 7)
            #expect(report.eventCount == 6)
            #expect(report.description.hasPrefix("broken at position 7: the event's content does not match"))
        }
    }

    @Test("a re-hashed forgery breaks the chain at the next event; a deleted event is named as missing")
    func forgedHashesAndDeletions() async throws {
        try await TestDatabase.withFresh { db async throws in
            try await fill(db.eventStore, count: 6)
            // Forge the actor and replace the content hash too, so the row's own hash check
            // cannot be what catches it... the chain does.
            try await tamper(db, "UPDATE events SET actor = 'agent:mallory', content_hash = sha256('x'::bytea) WHERE position = 3")
            #expect(try await db.eventStore.verify().firstBreak?.position == 3)
        }
        try await TestDatabase.withFresh { db async throws in
            try await fill(db.eventStore, count: 6)
            try await tamper(db, "DELETE FROM events WHERE position = 4")
            let report = try await db.eventStore.verify()
            #expect(report.firstBreak?.position == 4)
            #expect(report.firstBreak?.reason.contains("missing") == true)
        }
        try await TestDatabase.withFresh { db async throws in
            try await fill(db.eventStore, count: 6)
            try await tamper(db, "DELETE FROM events WHERE position = 6")
            let report = try await db.eventStore.verify()
            #expect(report.firstBreak?.position == 6)
            #expect(report.firstBreak?.reason.contains("events were removed") == true)
        }
    }
}
