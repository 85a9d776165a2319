import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres
import TestSupport
import Testing

/// Runs the built batond binary as a user would.
struct Batond {
    static var executable: URL {
        // The test bundle sits in the build directory, next to the built executables.
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("batond")
    }

    /// Runs batond to completion and returns its exit status and output. DATABASE_URL is
    /// taken from `environment` only, never inherited.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        await (try start(arguments, environment: environment)).wait()
    }

    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        var env: [String: String?] = ["DATABASE_URL": nil]
        for (key, value) in environment { env[key] = value }
        return try ChildProcess(executable.path, arguments, environment: env)
    }
}

@Suite("batond as a process: serve, migrate, verify on the embedded cluster")
struct BatondProcessTests {
    func freePort() -> Int { Int.random(in: 20_000..<40_000) }

    func get(_ url: String) async -> (Int, String)? {
        guard let (data, response) = try? await URLSession.shared.data(from: URL(string: url)!) else { return nil }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test("serve starts its own cluster, answers /readyz, stops cleanly on SIGTERM, and finds its data again")
    func serveLifecycle() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("batond-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataDir = directory.appendingPathComponent("pg").path

        for round in 1...2 {
            let port = freePort()
            let server = try Batond.start(["serve", "--port", "\(port)", "--data-dir", dataDir])
            var ready: (Int, String)?
            for _ in 0..<300 {
                ready = await get("http://127.0.0.1:\(port)/readyz")
                if ready?.0 == 200 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(ready?.0 == 200, "round \(round): /readyz never answered 200")
            #expect(ready?.1.contains("\"ready\"") == true)
            #expect(await get("http://127.0.0.1:\(port)/healthz")?.1 == "ok\n")
            // Requests are counted on /metrics, in Prometheus text format.
            let metrics = await get("http://127.0.0.1:\(port)/metrics")
            #expect(metrics?.0 == 200)
            #expect(metrics?.1.contains("hb_requests") == true, "\(metrics?.1.prefix(300) ?? "no answer")")
            if round == 1 {
                // Leave a trace in the database to find in round 2.
                let client = PostgresClient(configuration: .init(connectionString: EmbeddedPostgres(configuration: .init(dataDirectory: URL(fileURLWithPath: dataDir))).connectionString))
                try await client.execute("INSERT INTO event_checkpoints (name, position) VALUES ('round-one', 1)")
                // The cluster runs with the settings for a log that is written all the time.
                let settings = try await client.query("""
                    SELECT name, setting FROM pg_settings
                    WHERE name IN ('max_wal_size', 'wal_init_zero', 'backend_flush_after') ORDER BY name
                    """).map { "\(try $0.decode(String.self, at: 0))=\(try $0.decode(String.self, at: 1))" }
                #expect(settings == ["backend_flush_after=64", "max_wal_size=4096", "wal_init_zero=off"])
                await client.shutdown()
            }
            server.signal(SIGTERM)
            let (status, output) = await server.wait()
            #expect(status == 0, "batond exited with \(status): \(output)")
            #expect(output.contains("stopping embedded PostgreSQL"))
            #expect(!FileManager.default.fileExists(atPath: dataDir + "/postmaster.pid"), "the cluster is still running")
        }
        // Round 2 found round 1's row: verify through the CLI on the same directory.
        let (status, output) = try await Batond.run(["verify", "--data-dir", dataDir])
        #expect(status == 0)
        #expect(output.contains("intact, 0 events"))
        let client = EmbeddedPostgres(configuration: .init(dataDirectory: URL(fileURLWithPath: dataDir)))
        try await client.start()
        let pg = PostgresClient(configuration: .init(connectionString: client.connectionString))
        #expect(try await pg.query("SELECT count(*) FROM event_checkpoints WHERE name = 'round-one'")[0].decode(Int.self, at: 0) == 1)
        await pg.shutdown()
        try await client.stop()
    }

    @Test("migrate applies once, then says up to date; --status lists what is applied")
    func migrate() async throws {
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            let env = ["DATABASE_URL": db.connectionString]
            let first = try await Batond.run(["migrate"], environment: env)
            #expect(first.status == 0)
            #expect(first.output.contains("applied  0001_event_store.sql"))
            let second = try await Batond.run(["migrate"], environment: env)
            #expect(second.output.contains("up to date"))
            let status = try await Batond.run(["migrate", "--status"], environment: env)
            #expect(status.output.contains("applied  0000_migrations_ledger.sql"))
            #expect(!status.output.contains("pending"))
        }
    }

    @Test("verify prints the intact chain, or names the tampered position and exits 1")
    func verify() async throws {
        try await TestDatabase.withFresh { db async throws in
            let store = db.eventStore
            for n in 0..<5 {
                _ = try await store.append(to: "ticket-1", expectedVersion: .any, events: [
                    .init(type: "TicketCommented", data: Array(#"{"n":\#(n)}"#.utf8), occurredAt: Date(), actor: "agent:ada"),
                ])
            }
            let env = ["DATABASE_URL": db.connectionString]
            let intact = try await Batond.run(["verify"], environment: env)
            #expect(intact.status == 0)
            #expect(intact.output.contains("intact, 5 events, head hash "))
            try await db.client.withConnection { connection in
                try await connection.executeScript("SET session_replication_role = replica")
                try await connection.executeScript("UPDATE events SET actor = 'agent:mallory' WHERE position = 4")
                try await connection.executeScript("RESET session_replication_role")
            }
            let broken = try await Batond.run(["verify"], environment: env)
            #expect(broken.status == 1)
            #expect(broken.output.contains("broken at position 4"))
        }
    }

    @Test("agreements apply records the example file once; list shows it; a broken file is refused with every problem")
    func agreements() async throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/examples/agreements.yaml").path
        try await TestDatabase.withFresh { db async throws in
            let env = ["DATABASE_URL": db.connectionString]
            let first = try await Batond.run(["agreements", "apply", example, "--actor", "admin:ada"], environment: env)
            #expect(first.status == 0, "\(first.output)")
            #expect(first.output.contains("registered  northwind-helpdesk (version 1)"))
            let again = try await Batond.run(["agreements", "apply", example], environment: env)
            #expect(again.output.contains("unchanged   northwind-helpdesk (version 1)"))
            let list = try await Batond.run(["agreements", "list"], environment: env)
            #expect(list.status == 0)
            #expect(list.output.contains("ID"))
            #expect(list.output.contains("northwind-helpdesk"))
            #expect(list.output.contains("vendor"))

            let broken = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString).yaml")
            let text = try String(contentsOfFile: example, encoding: .utf8)
                .replacingOccurrences(of: "resolution: 4h", with: "resolution: 4 hrs")
                .replacingOccurrences(of: "precedence: 10", with: "precedence: ten")
            try text.write(to: broken, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: broken) }
            let refused = try await Batond.run(["agreements", "apply", broken.path], environment: env)
            #expect(refused.status == 64)
            #expect(refused.output.contains("\"4 hrs\" is not a duration"))
            #expect(refused.output.contains("precedence"))
        }
    }

    @Test("tokens create prints the token once; list shows it without the secret; revoke by id prefix")
    func tokens() async throws {
        try await TestDatabase.withFresh { db async throws in
            let env = ["DATABASE_URL": db.connectionString]
            let created = try await Batond.run(["tokens", "create", "--role", "vendor", "--vendor", "northwind", "--name", "Northwind integration"], environment: env)
            #expect(created.status == 0, "\(created.output)")
            let token = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("baton_") }.map(String.init))
            #expect(created.output.contains("cannot be shown again"))
            let list = try await Batond.run(["tokens", "list"], environment: env)
            #expect(list.output.contains("northwind"))
            #expect(list.output.contains("Northwind integration"))
            #expect(!list.output.contains(token))
            let id = try #require(list.output.split(separator: "\n").dropFirst().first?.split(separator: " ").first.map(String.init))
            let revoked = try await Batond.run(["tokens", "revoke", id], environment: env)
            #expect(revoked.status == 0)
            #expect(revoked.output.contains("revoked"))
            let missing = try await Batond.run(["tokens", "create", "--role", "vendor", "--name", "No vendor"], environment: env)
            #expect(missing.status == 64)
            #expect(missing.output.contains("a vendor token needs a vendor id (--vendor)"))
        }
    }
}
