import BatonServer
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("API tokens: created once, stored hashed, revocable")
struct TokenStoreTests {
    @Test("a token authenticates as its principal; only its hash is stored")
    func createAndAuthenticate() async throws {
        try await TestDatabase.withFresh { db async throws in
            let tokens = TokenStore(client: db.client)
            let (token, record) = try await tokens.create(role: .vendor, subject: "northwind", name: "Northwind integration", createdBy: "admin:ada")
            #expect(token.hasPrefix("baton_"))
            #expect(token.count == 6 + 43)
            #expect(record.hint == String(token.prefix(12)))
            let principal = try #require(try await tokens.authenticate(token))
            #expect(principal.role == .vendor)
            #expect(principal.subject == "northwind")
            #expect(principal.actor?.rawValue == "vendor:northwind")
            #expect(try await tokens.authenticate(token + "x") == nil)
            #expect(try await tokens.authenticate("Bearer " + token) == nil)
            // The secret is nowhere in the table.
            let leaked = try await db.client.query("""
                SELECT count(*) FROM api_tokens t WHERE position(\(token) IN t::text) > 0
                """)[0].decode(Int.self, at: 0)
            #expect(leaked == 0)
        }
    }

    @Test("a revoked token no longer authenticates; the list keeps it, marked revoked")
    func revoke() async throws {
        try await TestDatabase.withFresh { db async throws in
            let tokens = TokenStore(client: db.client)
            let (token, record) = try await tokens.create(role: .agent, subject: "mgarcia", name: "Maria Garcia", createdBy: "admin:ada")
            let (other, _) = try await tokens.create(role: .auditor, subject: nil, name: "City auditor", createdBy: "admin:ada")
            let revoked = try await tokens.revoke(idPrefix: String(record.id.uuidString.prefix(8)), revokedBy: "admin:ada")
            #expect(revoked.revokedAt != nil)
            #expect(try await tokens.authenticate(token) == nil)
            #expect(try await tokens.authenticate(other)?.role == .auditor)
            #expect(try await tokens.list().count == 2)
            #expect(try await tokens.list(activeOnly: true).map(\.name) == ["City auditor"])
            let again = try await tokens.revoke(idPrefix: record.id.uuidString, revokedBy: "admin:grace")
            #expect(again.revokedAt == revoked.revokedAt)
            await #expect(throws: TokenStore.InvalidToken.self) { try await tokens.revoke(idPrefix: "abc", revokedBy: "admin:ada") }
            await #expect(throws: TokenStore.InvalidToken.self) { try await tokens.revoke(idPrefix: "00000000", revokedBy: "admin:ada") }
        }
    }

    @Test("bad requests name the field and what was expected")
    func validation() async throws {
        try await TestDatabase.withFresh { db async throws in
            let tokens = TokenStore(client: db.client)
            let cases: [(Principal.Role, String?, String, String)] = [
                (.vendor, nil, "x", "a vendor token needs a vendor id (--vendor)"),
                (.ingest, "", "x", "an ingest token needs a source name (--source)"),
                (.agent, "Maria Garcia", "x", "\"Maria Garcia\" is not a login (--login)"),
                (.auditor, "ada", "x", "an auditor token speaks for no vendor, source or login"),
                (.admin, "root", "  ", "is empty"),
            ]
            for (role, subject, name, message) in cases {
                let error = await #expect(throws: TokenStore.InvalidToken.self) {
                    try await tokens.create(role: role, subject: subject, name: name, createdBy: "admin:ada")
                }
                #expect(error?.description.contains(message) == true, "\(error?.description ?? "no error")")
            }
            #expect(try await tokens.list().isEmpty)
        }
    }

    @Test("twenty tokens created at once are all distinct and each speaks for its own principal")
    func concurrentCreation() async throws {
        try await TestDatabase.withFresh(maximumConnections: 6) { db async throws in
            let tokens = TokenStore(client: db.client)
            let created = try await withThrowingTaskGroup(of: (String, String).self) { group in
                for n in 0..<20 {
                    group.addTask { (try await tokens.create(role: .ingest, subject: "source-\(n)", name: "Source \(n)", createdBy: "admin:ada").token, "source-\(n)") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(created.map(\.0)).count == 20)
            for (token, subject) in created {
                #expect(try await tokens.authenticate(token)?.subject == subject)
            }
        }
    }
}
