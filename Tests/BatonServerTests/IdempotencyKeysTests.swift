import BatonServer
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
}
