import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Postgres: pool, transactions, errors, notifications")
struct ClientTests {
    @Test("a transaction commits when its body returns and rolls back when it throws")
    func transactions() async throws {
        struct Refused: Error {}
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            try await db.client.execute("CREATE TABLE tickets (number text PRIMARY KEY)")
            try await db.client.withTransaction { try await $0.execute("INSERT INTO tickets VALUES ('T-1')") }
            await #expect(throws: Refused.self) {
                try await db.client.withTransaction { connection in
                    try await connection.execute("INSERT INTO tickets VALUES ('T-2')")
                    throw Refused()
                }
            }
            let numbers = try await db.client.query("SELECT number FROM tickets ORDER BY number").map { try $0.decode(String.self, at: 0) }
            #expect(numbers == ["T-1"])
            #expect(await db.client.statistics.open <= 4)
        }
    }

    @Test("a transaction with generic plans runs its statements unplanned; the setting ends with it")
    func genericPlans() async throws {
        try await TestDatabase.withFresh(migrated: false, maximumConnections: 1) { db async throws in
            try await db.client.execute("CREATE TABLE tickets (number integer PRIMARY KEY, queue text)")
            try await db.client.execute("INSERT INTO tickets SELECT n, 'service-desk' FROM generate_series(1, 1000) AS n")
            try await db.client.execute("ANALYZE tickets")
            // An array parameter: a plan for the values at hand always looks cheaper than the
            // generic one, so PostgreSQL left to itself plans the statement on every run.
            let lookup = { (connection: PostgresConnection) async throws -> Int in
                try await connection.query("SELECT number FROM tickets WHERE number = ANY(\([Int32(3), 4]))").count
            }
            let plans = { () async throws -> (generic: Int64, custom: Int64) in
                let row = try await db.client.query("""
                    SELECT generic_plans, custom_plans FROM pg_prepared_statements
                    WHERE statement LIKE '%number = ANY%' AND statement NOT LIKE '%pg_prepared_statements%'
                    """)[0]
                return (try row.decode(Int64.self, at: 0), try row.decode(Int64.self, at: 1))
            }
            for _ in 0..<8 {
                #expect(try await db.client.withTransaction { try await lookup($0) } == 2)
            }
            let before = try await plans()
            #expect(before.custom == 8)
            for _ in 0..<8 {
                #expect(try await db.client.withTransaction(genericPlans: true) { try await lookup($0) } == 2)
            }
            let after = try await plans()
            #expect(after.custom == before.custom)
            #expect(after.generic == before.generic + 8)
            #expect(try await db.client.query("SHOW plan_cache_mode")[0].decode(String.self, at: 0) == "auto")
        }
    }

    @Test("a statement put together from fragments binds every fragment's values in order, and keeps a $ that is no parameter")
    func appendedFragments() async throws {
        try await TestDatabase.withFresh(migrated: false, maximumConnections: 1) { db async throws in
            var query: PostgresQuery = "SELECT \(Int32(1)) + \(Int32(2)), '$a'"
            query.append(", \(Int32(10)) * \(Int32(3)), \("x") || '$' || \("y")")
            query.append(", 'US$9'")
            query.append(" WHERE \(true) AND \(Int64(12)) > 11")
            #expect(query.sql == "SELECT $1 + $2, '$a', $3 * $4, $5 || '$' || $6, 'US$9' WHERE $7 AND $8 > 11")
            let row = try #require(try await db.client.query(query).first)
            #expect(try row.decode(Int32.self, at: 0) == 3)
            #expect(try row.decode(String.self, at: 1) == "$a")
            #expect(try row.decode(Int32.self, at: 2) == 30)
            #expect(try row.decode(String.self, at: 3) == "x$y")
            #expect(try row.decode(String.self, at: 4) == "US$9")

            // Onto a statement with no values yet, a fragment's numbers stay as they are.
            var bare: PostgresQuery = "SELECT 'none'"
            bare.append(", \(Int32(7))")
            #expect(bare.sql == "SELECT 'none', $1")
            #expect(try await db.client.query(bare)[0].decode(Int32.self, at: 1) == 7)
        }
    }

    @Test("a statement is prepared once per connection, and prepared afresh when its table changes shape")
    func preparedStatements() async throws {
        try await TestDatabase.withFresh(migrated: false, maximumConnections: 1) { db async throws in
            try await db.client.withConnection { connection in
                try await connection.execute("CREATE TABLE queues (name text, depth integer)")
                try await connection.execute("INSERT INTO queues VALUES (\("northwind-l1"), \(Int32(3)))")
                let select: () async throws -> [String] = {
                    try await connection.query("SELECT * FROM queues WHERE name = \("northwind-l1")").map { row in
                        (0..<row.count).map { (try? row.decode(String?.self, at: $0)).flatMap { $0 } ?? "-" }.joined(separator: ",")
                    }
                }
                #expect(try await select() == ["northwind-l1,-"])
                #expect(try await select() == ["northwind-l1,-"])
                let prepared = try await connection.query("SELECT count(*) FROM pg_prepared_statements")[0].decode(Int64.self, at: 0)
                #expect(prepared >= 2)
                // Another column: the prepared SELECT * now returns another row type.
                try await connection.execute("ALTER TABLE queues ADD COLUMN vendor text DEFAULT 'northwind'")
                #expect(try await select() == ["northwind-l1,-,northwind"])
                #expect(try await select() == ["northwind-l1,-,northwind"])
            }
        }
    }

    @Test("server errors carry SQLSTATE and constraint; their description leaves out row data")
    func serverErrors() async throws {
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            try await db.client.execute("CREATE TABLE vendors (id text CONSTRAINT vendors_pk PRIMARY KEY)")
            try await db.client.execute("INSERT INTO vendors VALUES (\("secret-northwind"))")
            let error = await #expect(throws: PostgresError.self) {
                try await db.client.execute("INSERT INTO vendors VALUES (\("secret-northwind"))")
            }
            #expect(error?.sqlState == SQLState.uniqueViolation)
            #expect(error?.constraint == "vendors_pk")
            #expect(error?.description.contains("secret-northwind") == false)
            #expect(error?.detail?.contains("secret-northwind") == true)
            // The connection that saw the error is still good.
            #expect(try await db.client.query("SELECT 1")[0].decode(Int.self, at: 0) == 1)
        }
    }

    @Test("an exhausted pool makes callers wait, then times out with a clear error")
    func poolExhaustion() async throws {
        // Long enough that the waiter below is served within it even while the whole suite
        // loads both cores: at 300 ms the released connections came back too late once.
        try await TestDatabase.withFresh(migrated: false, maximumConnections: 2, leaseTimeout: .seconds(2)) { db async throws in
            let (release, releaser) = AsyncStream.makeStream(of: Void.self)
            let (held, holder) = AsyncStream.makeStream(of: Void.self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await db.client.withConnection { _ in
                            holder.yield()
                            for await _ in release { break }
                        }
                    }
                }
                var heldCount = 0
                for await _ in held {
                    heldCount += 1
                    if heldCount == 2 { break }
                }
                let error = await #expect(throws: PostgresError.self) { try await db.client.query("SELECT 1") }
                #expect(error?.code == .poolTimeout)
                #expect(error?.description.contains("all 2 connections") == true)
                // A waiter is served as soon as a connection comes back.
                group.addTask {
                    let one = try await db.client.query("SELECT 1")[0].decode(Int.self, at: 0)
                    #expect(one == 1)
                }
                try await Task.sleep(for: .milliseconds(50))
                releaser.yield()
                releaser.yield()
                releaser.finish()
                try await group.waitForAll()
            }
        }
    }

    @Test("the pool recovers after the server restarts under it")
    func recoversFromRestart() async throws {
        let cluster = try await TestDatabase.privateCluster()
        let client = PostgresClient(configuration: .init(connectionString: cluster.connectionString, maximumConnections: 3))
        let before = try await client.query("SELECT pg_backend_pid()")[0].decode(Int32.self, at: 0)
        try await cluster.restart()
        let after = try await client.query("SELECT pg_backend_pid()")[0].decode(Int32.self, at: 0)
        #expect(before != after)
        let count = try await client.query("SELECT count(*) FROM pg_stat_activity")[0].decode(Int.self, at: 0)
        #expect(count >= 1)
        await client.shutdown()
        try await cluster.stop()
    }

    @Test("a broken connection is discarded and the next lease gets a working one")
    func discardsBrokenConnection() async throws {
        try await TestDatabase.withFresh(migrated: false, maximumConnections: 1) { db async throws in
            let pid = try await db.client.query("SELECT pg_backend_pid()")[0].decode(Int32.self, at: 0)
            let admin = try await TestDatabase.adminClient()
            _ = try await admin.query("SELECT pg_terminate_backend(\(pid))")
            try await Task.sleep(for: .milliseconds(100))
            let next = try await db.client.query("SELECT pg_backend_pid()")[0].decode(Int32.self, at: 0)
            #expect(next != pid)
        }
    }

    @Test("LISTEN delivers notifications, and again after its connection is killed")
    func notifications() async throws {
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            let notifications = PostgresNotifications(
                connectionString: db.client.configuration.connectionString, database: db.name, channels: ["ticket events"])
            var iterator = notifications.makeAsyncIterator()
            #expect(await iterator.next() == .listening)
            try await db.client.execute("SELECT pg_notify('ticket events', \("T-1042 opened"))")
            guard case .notification(let first) = await iterator.next() else {
                Issue.record("expected a notification")
                return
            }
            #expect(first.channel == "ticket events")
            #expect(first.payload == "T-1042 opened")

            let admin = try await TestDatabase.adminClient()
            _ = try await admin.query("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = \(db.name) AND application_name = 'baton-listener'
                """)
            #expect(await iterator.next() == .listening)
            try await db.client.execute("SELECT pg_notify('ticket events', 'again')")
            guard case .notification(let second) = await iterator.next() else {
                Issue.record("expected a notification after reconnecting")
                return
            }
            #expect(second.payload == "again")
        }
    }

    @Test("one connection used by two tasks at once refuses the second call instead of corrupting libpq")
    func concurrentUseIsRefused() async throws {
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            let outcomes = try await db.client.withConnection { connection in
                await withTaskGroup(of: Bool.self) { group in
                    for _ in 0..<2 {
                        group.addTask { (try? await connection.query("SELECT pg_sleep(0.2)")) != nil }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(outcomes.filter { !$0 }.count == 1)
            #expect(try await db.client.query("SELECT 1")[0].decode(Int.self, at: 0) == 1)
        }
    }

    @Test("serialization failures are retried until the transaction goes through")
    func retriesSerializationFailures() async throws {
        try await TestDatabase.withFresh(migrated: false, maximumConnections: 8) { db async throws in
            try await db.client.execute("CREATE TABLE counter (n int NOT NULL)")
            try await db.client.execute("INSERT INTO counter VALUES (0)")
            let attempts = Attempts()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        try await db.client.withRetry(maximumAttempts: 50) {
                            await attempts.increment()
                            try await db.client.withTransaction(isolation: .serializable) { connection in
                                let n = try await connection.query("SELECT n FROM counter")[0].decode(Int.self, at: 0)
                                try await Task.sleep(for: .milliseconds(5))
                                try await connection.execute("UPDATE counter SET n = \(n + 1)")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await db.client.query("SELECT n FROM counter")[0].decode(Int.self, at: 0) == 6)
            #expect(await attempts.count > 6)  // some attempts did fail and were retried
        }
    }
}

actor Attempts {
    var count = 0
    func increment() { count += 1 }
}
