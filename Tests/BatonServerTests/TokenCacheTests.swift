import BatonServer
import Foundation
import Logging
import Postgres
import TestSupport
import Testing

@Suite("Authenticated principals are remembered only while no token change can be missed")
struct TokenCacheTests {
    /// Runs `body` with a running cache on `db`, once its listener is connected.
    func withCache(_ db: TestDatabase.Fresh, _ body: (TokenCache) async throws -> Void) async throws {
        let cache = TokenCache(tokens: TokenStore(client: db.client), logger: Logger(label: "test"))
        let running = Task { try await cache.run() }
        defer { running.cancel() }
        for _ in 0..<100 where cache.listenerBackendPID == nil { try await Task.sleep(for: .milliseconds(50)) }
        try #require(cache.listenerBackendPID != nil)
        try await body(cache)
    }

    @Test("a principal is remembered: a change that announces nothing goes unseen until forgetAll()")
    func remembers() async throws {
        try await TestDatabase.withFresh { db async throws in
            try await withCache(db) { cache in
                let tokens = TokenStore(client: db.client)
                let (token, record) = try await tokens.create(role: .agent, subject: "ada", name: "Ada", createdBy: "test")
                #expect(try await cache.authenticate(token)?.subject == "ada")
                // Behind the cache's back: the trigger that announces changes is off.
                try await db.client.execute("ALTER TABLE api_tokens DISABLE TRIGGER api_tokens_changed")
                _ = try await tokens.revoke(idPrefix: record.id.uuidString, revokedBy: "test")
                try await Task.sleep(for: .milliseconds(200))
                #expect(try await cache.authenticate(token)?.subject == "ada")
                cache.forgetAll()
                #expect(try await cache.authenticate(token) == nil)
                #expect(try await cache.authenticate("baton_unknown") == nil)
                #expect(try await cache.authenticate("not a token") == nil)
            }
        }
    }

    @Test("a revocation by another process reaches the cache by its notification")
    func revocationIsAnnounced() async throws {
        try await TestDatabase.withFresh { db async throws in
            try await withCache(db) { cache in
                // Another process's store: its own client on the same database.
                let elsewhere = PostgresClient(configuration: .init(connectionString: db.connectionString, maximumConnections: 1))
                let tokens = TokenStore(client: elsewhere)
                let (token, record) = try await tokens.create(role: .vendor, subject: "northwind", name: "Northwind", createdBy: "test")
                let (other, _) = try await tokens.create(role: .auditor, subject: nil, name: "Auditor", createdBy: "test")
                #expect(try await cache.authenticate(token)?.role == .vendor)
                #expect(try await cache.authenticate(other)?.role == .auditor)
                _ = try await tokens.revoke(idPrefix: record.id.uuidString, revokedBy: "test")
                #expect(try await waitFor(.seconds(5)) { try await cache.authenticate(token) == nil })
                #expect(try await cache.authenticate(other)?.role == .auditor)
                await elsewhere.shutdown()
            }
        }
    }

    @Test("while the listener reconnects nothing is remembered, and what was remembered before is forgotten")
    func reconnectForgets() async throws {
        try await TestDatabase.withFresh { db async throws in
            try await withCache(db) { cache in
                let tokens = TokenStore(client: db.client)
                let (token, record) = try await tokens.create(role: .agent, subject: "ada", name: "Ada", createdBy: "test")
                #expect(try await cache.authenticate(token) != nil)
                try await db.client.execute("ALTER TABLE api_tokens DISABLE TRIGGER api_tokens_changed")
                _ = try await tokens.revoke(idPrefix: record.id.uuidString, revokedBy: "test")
                let pid = try #require(cache.listenerBackendPID)
                _ = try await TestDatabase.adminClient().query("SELECT pg_terminate_backend(\(pid))")
                // Down or back up, the revocation is seen: a reconnect forgets what was remembered.
                #expect(try await waitFor(.seconds(5)) { cache.listenerBackendPID != nil && cache.listenerBackendPID != pid })
                #expect(try await cache.authenticate(token) == nil)
            }
        }
    }
}
