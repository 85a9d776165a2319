import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing

@Suite("Postgres: a session of statements in one hop to the thread pool")
struct SessionTests {
    @Test("a session's transaction commits when its body returns and rolls back when it throws; its settings end with it")
    func transactions() async throws {
        struct Refused: Error {}
        try await TestDatabase.withFresh(migrated: false, maximumConnections: 1) { db async throws in
            try await db.client.execute("CREATE TABLE tickets (number text PRIMARY KEY, queue text)")
            let setting = { (name: String) in try await db.client.query("SELECT current_setting(\(name))")[0].decode(String.self, at: 0) }
            let planning = try await setting("plan_cache_mode")
            let committing = try await setting("synchronous_commit")
            #expect(planning != "force_generic_plan")
            let count = try await db.client.withConnection { connection in
                try await connection.withSession { session in
                    try session.withTransaction(waitForDisk: false, genericPlans: true) { session -> Int in
                        // Each statement sees the one before, and the transaction's settings hold.
                        #expect(try session.execute("INSERT INTO tickets VALUES ('T-1', 'service-desk'), ('T-2', 'service-desk')") == 2)
                        #expect(try session.query("SHOW plan_cache_mode")[0].decode(String.self, at: 0) == "force_generic_plan")
                        #expect(try session.query("SHOW synchronous_commit")[0].decode(String.self, at: 0) == "off")
                        return try session.query("SELECT count(*) FROM tickets WHERE queue = \("service-desk")")[0].decode(Int.self, at: 0)
                    }
                }
            }
            #expect(count == 2)
            await #expect(throws: Refused.self) {
                try await db.client.withConnection { connection in
                    try await connection.withSession { session in
                        try session.withTransaction { session in
                            try session.execute("INSERT INTO tickets VALUES ('T-3', 'service-desk')")
                            throw Refused()
                        }
                    }
                }
            }
            // A server error inside rolls back too, and names what failed.
            await #expect(throws: PostgresError.self) {
                try await db.client.withConnection { connection in
                    try await connection.withSession { session in
                        try session.withTransaction { session in
                            try session.execute("INSERT INTO tickets VALUES ('T-4', 'service-desk')")
                            try session.execute("INSERT INTO tickets VALUES ('T-1', 'service-desk')")
                        }
                    }
                }
            }
            // The one connection is back in the pool, idle, with the session's settings gone.
            let numbers = try await db.client.query("SELECT number FROM tickets ORDER BY number").map { try $0.decode(String.self, at: 0) }
            #expect(numbers == ["T-1", "T-2"])
            #expect(try await setting("plan_cache_mode") == planning)
            #expect(try await setting("synchronous_commit") == committing)
        }
    }

    @Test("a connection in a session refuses a second user, as it does between two queries")
    func oneUser() async throws {
        try await TestDatabase.withFresh(migrated: false, maximumConnections: 1) { db async throws in
            try await db.client.withConnection { connection in
                let entered = Mutex(false)
                let leave = Mutex(false)
                async let session: Void = connection.withSession { session in
                    _ = try session.query("SELECT 1")
                    entered.withLock { $0 = true }
                    while !leave.withLock({ $0 }) { _ = try session.query("SELECT pg_sleep(0.01)") }
                }
                while !entered.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
                await #expect(throws: PostgresError.self) { try await connection.query("SELECT 2") }
                leave.withLock { $0 = true }
                try await session
                #expect(try await connection.query("SELECT 3")[0].decode(Int32.self, at: 0) == 3)
            }
        }
    }
}
