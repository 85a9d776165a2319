@testable import BatonServer
import Foundation
import Hummingbird
import HummingbirdTesting
import InMemoryLogging
import Logging
import TestSupport
import Testing

@Suite("batond HTTP: health and readiness over a real socket")
struct HTTPTests {
    let logger = Logger(label: "test")

    @Test("an Accept value admits a type by name, by its family or by */*, unless its quality is zero or a range is malformed", arguments: [
        ("application/json", true), ("APPLICATION/JSON", true), ("application/*;q=0.5", true), ("*/*", true),
        ("text/html, application/json;q=0.9", true), ("text/csv", false), ("application/json;q=0", false),
        ("application/jsonx", false), ("text/*", false), ("application/problem+json", false),
        ("text/html, image/gif, *; q=.2, */*; q=.2", false), ("application/json, /json", false),
    ])
    func acceptAdmits(accept: String, admitted: Bool) {
        #expect(AcceptMiddleware<BasicRequestContext>.admits(accept, "application/json") == admitted)
    }

    @Test("/healthz answers ok without touching the database")
    func healthz() async throws {
        try await TestDatabase.withFresh { db async throws in
            let app = try buildApplication(client: db.client, host: "127.0.0.1", port: 0, logger: logger)
            try await app.test(.live) { client in
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == "ok\n")
                }
            }
        }
    }

    @Test("/readyz is 200 when the database answers and the schema is current")
    func ready() async throws {
        try await TestDatabase.withFresh { db async throws in
            let app = try buildApplication(client: db.client, host: "127.0.0.1", port: 0, logger: logger)
            try await app.test(.live) { client in
                var answers: [String] = []
                for _ in 0..<5 {
                    try await client.execute(uri: "/readyz", method: .get) { response in
                        #expect(response.status == .ok)
                        #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                        let body = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                        #expect(body?["status"] as? String == "ready")
                        #expect(body?["database"] as? String == "reachable")
                        answers.append(String(buffer: response.body))
                    }
                }
                // The same bytes every time, keys in sorted order.
                #expect(Set(answers) == [#"{"database":"reachable","pendingMigrations":[],"status":"ready"}"#])
            }
        }
    }

    @Test("/readyz is 503 and lists what is pending when migrations are not applied")
    func pendingMigrations() async throws {
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            let app = try buildApplication(client: db.client, host: "127.0.0.1", port: 0, logger: logger)
            try await app.test(.live) { client in
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                    let body = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                    #expect(body?["status"] as? String == "not ready")
                    #expect(body?["detail"] as? String == "migrations are pending; run `batond migrate`")
                    #expect((body?["pendingMigrations"] as? [String])?.first == "0000_migrations_ledger.sql")
                }
            }
        }
    }

    @Test("runServer serves until its stop closure returns, then shuts down gracefully, logging no error, and returns")
    func stopsWhenTold() async throws {
        try await TestDatabase.withFresh { db async throws in
            let logs = InMemoryLogHandler()
            let logger = Logger(label: "test") { _ in logs }
            let (stop, stopping) = AsyncStream<Never>.makeStream()
            // Stopped whatever the test's outcome, before its database goes.
            defer { stopping.finish() }
            let (bound, binding) = AsyncStream<Int>.makeStream()
            let server = Task {
                // A server that fails to start ends the wait for its port.
                defer { binding.finish() }
                try await runServer(
                    configuration: .init(database: .url(db.connectionString), host: "127.0.0.1", port: 0, maximumConnections: 8),
                    logger: logger, onServerRunning: { port in binding.yield(port) }, until: { for await _ in stop {} })
            }
            var ports = bound.makeAsyncIterator()
            let port = try #require(await ports.next())
            let health = try await TestClient.withClient(host: "127.0.0.1", port: port) { try await $0.get("/healthz") }
            #expect(health.status == .ok)

            stopping.finish()
            let returned = await withTaskGroup(of: Bool.self) { group in
                group.addTask { _ = await server.result; return true }
                group.addTask {
                    guard (try? await Task.sleep(for: .seconds(60))) != nil else { return false }
                    server.cancel()
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            #expect(returned, "runServer was still running 60 s after its stop closure returned")
            await #expect(throws: Never.self) { try await server.value }
            // Cancelled rather than shut down, the HTTP server logs "Waiting on child channel:
            // CancellationError()" as an error.
            let errors = logs.entries.filter { $0.level >= .error }.map(\.message)
            #expect(errors.isEmpty, "\(errors)")
            await #expect(throws: (any Error).self, "still listening") {
                try await TestClient.withClient(
                    host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(5))
                ) { try await $0.get("/healthz") }
            }
        }
    }
}
