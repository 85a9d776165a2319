import BatonServer
import EventStore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Idempotency keys bind a key to the request it first came with")
struct IdempotencyKeysTests {
    @Test("a key is claimed again by the same request and refused to another")
    func sameAndOther() async throws {
        try await TestDatabase.withFresh { db async throws in
            let keys = IdempotencyKeys(client: db.client)
            let key = UUID()
            try await keys.claim(key, request: "comment: hello")
            try await keys.claim(key, request: "comment: hello")
            await #expect(throws: IdempotencyKeys.Mismatch.self) { try await keys.claim(key, request: "comment: goodbye") }
            try await keys.claim(UUID(), request: "comment: goodbye")
        }
    }

    @Test("a request racing its own retry is answered as the same request, though the retry's claim commits while it waits")
    func racingRetry() async throws {
        try await TestDatabase.withFresh { db async throws in
            let keys = IdempotencyKeys(client: db.client)
            let key = UUID()
            let request = "resolve: fixed"
            // The retry's claim, held uncommitted while the first try's claim (and another
            // request's) waits on it; committed when the closure returns.
            let (first, other) = try await db.client.withTransaction { retry in
                try await retry.execute("""
                    INSERT INTO idempotency_keys (command_id, request_hash) VALUES (\(key), sha256(convert_to(\(request), 'UTF8')))
                    """)
                let first = Task { try await keys.claim(key, request: request) }
                let other = Task { try await keys.claim(key, request: "resolve: duplicate") }
                #expect(try await waitFor {
                    try await db.client.query("""
                        SELECT 1 FROM pg_stat_activity
                        WHERE datname = \(db.name) AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO idempotency_keys%'
                        """).count == 2
                })
                return (first, other)
            }
            // Same request: the first try's claim stands. Another request: refused.
            try await first.value
            await #expect(throws: IdempotencyKeys.Mismatch.self) { try await other.value }
        }
    }

    static func event() -> NewEvent {
        NewEvent(type: "TicketCommented", data: Array(#"{"body":"hello"}"#.utf8), occurredAt: Date(), actor: "agent:ada")
    }

    @Test("a key is freed only for the request it is bound to, and only while its command has recorded nothing")
    func releaseWhatRecordedNothing() async throws {
        try await TestDatabase.withFresh { db async throws in
            let keys = IdempotencyKeys(client: db.client)
            let key = UUID()
            try await keys.claim(key, request: "hold until 10:00")
            #expect(try await keys.release(key, request: "hold until 11:00") == false)
            await #expect(throws: IdempotencyKeys.Mismatch.self) { try await keys.claim(key, request: "hold until 11:00") }
            #expect(try await keys.release(key, request: "hold until 10:00"))
            try await keys.claim(key, request: "hold until 11:00")
            await #expect(throws: IdempotencyKeys.Mismatch.self) { try await keys.claim(key, request: "hold until 10:00") }

            // A command that recorded its events keeps its key.
            let recorded = UUID()
            try await keys.claim(recorded, request: "comment: hello")
            _ = try await db.eventStore.append(to: "ticket-\(UUID())", expectedVersion: .any, events: [Self.event()], commandId: recorded)
            #expect(try await keys.release(recorded, request: "comment: hello") == false)
            await #expect(throws: IdempotencyKeys.Mismatch.self) { try await keys.claim(recorded, request: "comment: goodbye") }
            #expect(try await db.client.query("SELECT count(*) FROM event_commands WHERE stream = ''")[0].decode(Int64.self, at: 0) == 0)
        }
    }

    @Test("a command recorded after its key was freed binds no request again: every request with the key is refused")
    func recordedWhileFreed() async throws {
        try await TestDatabase.withFresh { db async throws in
            let keys = IdempotencyKeys(client: db.client)
            let key = UUID()
            // Two tries with the key: the first is refused and frees it, while the second,
            // which claimed it before, goes on and is recorded.
            try await keys.claim(key, request: "hold until 10:00")
            #expect(try await keys.release(key, request: "hold until 10:00"))
            _ = try await db.eventStore.append(to: "ticket-\(UUID())", expectedVersion: .any, events: [Self.event()], commandId: key)
            // Which request was recorded cannot be told: a corrected one and a retry alike
            // are refused, and the key stays unbound.
            await #expect(throws: IdempotencyKeys.Mismatch.self) { try await keys.claim(key, request: "hold until 11:00") }
            await #expect(throws: IdempotencyKeys.Mismatch.self) { try await keys.claim(key, request: "hold until 10:00") }
            #expect(try await db.client.query("SELECT count(*) FROM idempotency_keys WHERE command_id = \(key)")[0].decode(Int64.self, at: 0) == 0)
        }
    }

    @Test("a release waits for an append of the same command still in flight: committed, the key stays bound; rolled back, it is freed")
    func releaseWaitsForAppend() async throws {
        try await TestDatabase.withFresh { db async throws in
            let keys = IdempotencyKeys(client: db.client)
            for commits in [true, false] {
                let key = UUID()
                try await keys.claim(key, request: "comment: hello")
                struct RolledBack: Error {}
                // The command's append, held uncommitted while the release waits on it.
                var release: Task<Bool, any Error>?
                do {
                    try await db.client.withTransaction { connection in
                        _ = try await db.eventStore.append(
                            to: "ticket-\(UUID())", expectedVersion: .any, events: [Self.event()], commandId: key, on: connection)
                        release = Task { try await keys.release(key, request: "comment: hello") }
                        #expect(try await waitFor {
                            try await db.client.query("""
                                SELECT 1 FROM pg_stat_activity
                                WHERE datname = \(db.name) AND wait_event_type = 'Lock' AND query LIKE '%idempotency_key_release%'
                                """).count == 1
                        })
                        if !commits { throw RolledBack() }
                    }
                } catch is RolledBack {}
                let released = try await #require(release).value
                #expect(released == !commits, "appended and committed: \(commits)")
                if commits {
                    await #expect(throws: IdempotencyKeys.Mismatch.self) { try await keys.claim(key, request: "comment: goodbye") }
                } else {
                    try await keys.claim(key, request: "comment: goodbye")
                }
            }
        }
    }
}
