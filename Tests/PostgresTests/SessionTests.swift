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

    @Test("a session's transaction sends its BEGIN with its first statement and, when asked, its COMMIT with its last")
    func transactionRoundTrips() async throws {
        struct Refused: Error {}
        try await TestDatabase.withFresh(migrated: false, maximumConnections: 1) { db async throws in
            try await db.client.execute("CREATE TABLE tickets (number text PRIMARY KEY, queue text)")
            let numbers = { try await db.client.query("SELECT number FROM tickets ORDER BY number").map { try $0.decode(String.self, at: 0) } }
            try await db.client.withConnection { connection in
                try await connection.withSession { session in
                    // The isolation level holds from the first statement, which went out with the BEGIN.
                    let isolation = try session.withTransaction(isolation: .repeatableRead) {
                        try $0.query("SHOW transaction_isolation")[0].decode(String.self, at: 0)
                    }
                    #expect(isolation == "repeatable read")
                    // Inside a transaction block now() is the transaction's start, which a
                    // statement that slept put well behind; outside, each statement's own.
                    let inBlock = { (session: PostgresSession) in
                        _ = try session.query("SELECT pg_sleep(0.01)")
                        return try session.query("SELECT statement_timestamp() - now() > interval '5 milliseconds'")[0].decode(Bool.self, at: 0)
                    }
                    #expect(throws: Refused.self) {
                        try session.withTransaction { session in
                            try session.execute("INSERT INTO tickets VALUES ('T-1', 'service-desk')")
                            #expect(try inBlock(session))
                            let inserted = try session.committing { try session.execute("INSERT INTO tickets VALUES ('T-2', 'service-desk')") }
                            #expect(inserted == 1)
                            // Committed: what follows runs on its own, and a throw takes nothing back.
                            #expect(try !inBlock(session))
                            try session.execute("INSERT INTO tickets VALUES ('T-3', 'service-desk')")
                            throw Refused()
                        }
                    }
                    // A last statement that fails commits nothing: its COMMIT is skipped, and the
                    // server's error (a duplicate key) is what is thrown.
                    do {
                        try session.withTransaction { session in
                            try session.execute("INSERT INTO tickets VALUES ('T-4', 'service-desk')")
                            try session.committing { try session.execute("INSERT INTO tickets VALUES ('T-1', 'service-desk')") }
                        }
                        Issue.record("a duplicate key was committed")
                    } catch let error as PostgresError {
                        #expect(error.sqlState == "23505")
                    }
                    // So does a first statement that fails, sent with its BEGIN.
                    #expect(throws: PostgresError.self) {
                        try session.withTransaction { try $0.execute("INSERT INTO tickets VALUES ('T-2', 'service-desk')") }
                    }
                    // A COPY cannot go with the BEGIN: the BEGIN goes first, on its own, and the
                    // COPY is rolled back with the rest.
                    #expect(throws: Refused.self) {
                        try session.withTransaction { session in
                            var rows = PostgresCopyRows(columns: ["number", "queue"])
                            rows.startRow()
                            rows.append("T-5")
                            rows.append("service-desk")
                            try session.copy(into: "tickets", rows)
                            #expect(try inBlock(session))
                            throw Refused()
                        }
                    }
                    // A statement that cannot even be prepared sends nothing: the BEGIN waits for
                    // the next one, which the rollback then takes back.
                    #expect(throws: Refused.self) {
                        try session.withTransaction { session in
                            do {
                                try session.execute("INSERT INTO nowhere VALUES (1)")
                                Issue.record("a table that does not exist took a row")
                            } catch {
                                #expect(error is PostgresError)
                            }
                            try session.execute("INSERT INTO tickets VALUES ('T-8', 'service-desk')")
                            #expect(try inBlock(session))
                            throw Refused()
                        }
                    }
                    // A transaction that runs nothing leaves nothing open.
                    try session.withTransaction { _ in }
                    #expect(try !inBlock(session))
                }
            }
            #expect(try await numbers() == ["T-1", "T-2", "T-3"])
            #expect(try await db.client.query("SELECT 1")[0].decode(Int32.self, at: 0) == 1)
        }
    }

    @Test("a pipeline answers each of its statements in order; an error stops the statements after it, and is what is thrown")
    func pipelines() async throws {
        try await TestDatabase.withFresh(migrated: false, maximumConnections: 1) { db async throws in
            try await db.client.execute("CREATE TABLE tickets (number text PRIMARY KEY, queue text)")
            let numbers = { try await db.client.query("SELECT number FROM tickets ORDER BY number").map { try $0.decode(String.self, at: 0) } }
            try await db.client.withConnection { connection in
                try await connection.withSession { session in
                    let answers = try session.pipeline([
                        "INSERT INTO tickets VALUES ('T-1', 'service-desk') RETURNING number",
                        "SELECT count(*) FROM tickets WHERE queue = \("service-desk")",
                        "INSERT INTO tickets VALUES (\("T-2"), \("civicsoft-apps")), ('T-3', 'service-desk')",
                    ])
                    #expect(try answers[0].map { try $0.decode(String.self, at: 0) } == ["T-1"])
                    #expect(try answers[1][0].decode(Int.self, at: 0) == 1)
                    #expect(answers[2].affectedRows == 2)
                    // Outside a transaction the pipeline's statements make one: the failing second
                    // is thrown, the third never runs, and the first is taken back.
                    do {
                        _ = try session.pipeline([
                            "INSERT INTO tickets VALUES ('T-4', 'service-desk')",
                            "INSERT INTO tickets VALUES ('T-1', 'service-desk')",
                            "INSERT INTO tickets VALUES ('T-5', 'service-desk')",
                        ])
                        Issue.record("a duplicate key went in")
                    } catch let error as PostgresError {
                        #expect(error.sqlState == "23505")
                    }
                    #expect(try session.query("SELECT count(*) FROM tickets WHERE number IN ('T-4', 'T-5')")[0].decode(Int.self, at: 0) == 0)
                    // In a transaction, a pipeline sent committing carries BEGIN and COMMIT.
                    try session.withTransaction { session in
                        try session.committing {
                            _ = try session.pipeline(["INSERT INTO tickets VALUES ('T-6', 'service-desk')", "DELETE FROM tickets WHERE number = 'T-3'"])
                        }
                    }
                    #expect(throws: PostgresError.self) {
                        try session.withTransaction { session in
                            try session.committing {
                                _ = try session.pipeline(["INSERT INTO tickets VALUES ('T-7', 'service-desk')", "INSERT INTO tickets VALUES ('T-6', 'service-desk')"])
                            }
                        }
                    }
                }
            }
            #expect(try await numbers() == ["T-1", "T-2", "T-6"])
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
