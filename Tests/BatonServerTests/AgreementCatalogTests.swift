import BatonAgreementFiles
import BatonDomain
import BatonServer
import Foundation
import TestSupport
import Testing

let exampleAgreements = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("deploy/examples/agreements.yaml")

@Suite("Agreements are recorded as events")
struct AgreementCatalogTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    @Test("applying the example file registers every agreement with every version; applying it again adds nothing")
    func applyTwice() async throws {
        let set = try AgreementsFile.load(contentsOf: exampleAgreements)
        try await TestDatabase.withFresh { db async throws in
            let catalog = AgreementCatalog(store: db.eventStore)
            let first = try await catalog.apply(set, actor: "admin:ada", at: now)
            let ids = Set(set.agreements.map(\.id))
            #expect(Set(first.map(\.agreementId)) == ids.union(["(service policy)"]))
            #expect(first.allSatisfy { $0.action == .registered })
            for change in first where change.agreementId != "(service policy)" {
                #expect(change.versions == set.agreements.filter { $0.id == change.agreementId }.map(\.version).sorted())
            }
            let head = try await db.eventStore.headPosition()
            #expect(head == Int64(set.agreements.count) + 1)  // and the policy

            let second = try await catalog.apply(set, actor: "admin:ada", at: now)
            #expect(second.allSatisfy { $0.action == .unchanged })
            #expect(try await db.eventStore.headPosition() == head)

            let stored = try await catalog.agreements()
            #expect(stored == set.agreements.sorted { ($0.id, $0.version) < ($1.id, $1.version) })
            let current = try #require(try await catalog.current())
            #expect(current.customerSLA == set.customerSLA)
            #expect(current.defaultQueue == set.defaultQueue)
            #expect(current.priorityMatrix == set.priorityMatrix)
            #expect(current.agreements == stored)
            let events = try await db.eventStore.readStream(AgreementCatalog.streamName(agreementId: "northwind-helpdesk"))
            #expect(events.map(\.type) == ["AgreementRegistered"])
            #expect(events.first?.actor == "admin:ada")
        }
    }

    @Test("a changed customer SLA or default queue is recorded as a new policy; nothing else changes")
    func policyChange() async throws {
        var set = try AgreementsFile.load(contentsOf: exampleAgreements)
        try await TestDatabase.withFresh { db async throws in
            let catalog = AgreementCatalog(store: db.eventStore)
            #expect(try await catalog.current() == nil)
            _ = try await catalog.apply(set, actor: "admin:ada", at: now)
            set.defaultQueue = "front-desk"
            let changes = try await catalog.apply(set, actor: "admin:ada", at: now)
            #expect(changes.filter { $0.action != .unchanged } == [
                .init(agreementId: "(service policy)", action: .amended, versions: [2], latestVersion: 2),
            ])
            #expect(try await catalog.current()?.defaultQueue == "front-desk")
        }
    }

    @Test("a new version in the file is recorded as an amendment of that agreement only")
    func amendment() async throws {
        var set = try AgreementsFile.load(contentsOf: exampleAgreements)
        try await TestDatabase.withFresh { db async throws in
            let catalog = AgreementCatalog(store: db.eventStore)
            _ = try await catalog.apply(set, actor: "admin:ada", at: now)
            var next = try #require(set.agreements.first { $0.id == "northwind-helpdesk" })
            next.version += 1
            next.precedence += 5
            set.agreements.append(next)
            let changes = try await catalog.apply(set, actor: "admin:ada", at: now)
            #expect(changes.filter { $0.action != .unchanged } == [
                .init(agreementId: "northwind-helpdesk", action: .amended, versions: [next.version], latestVersion: next.version),
            ])
            let events = try await db.eventStore.readStream(AgreementCatalog.streamName(agreementId: "northwind-helpdesk"))
            #expect(events.map(\.type) == ["AgreementRegistered", "AgreementAmended"])
        }
    }

    @Test("two admins applying the same file at once record each version exactly once")
    func concurrentApply() async throws {
        let set = try AgreementsFile.load(contentsOf: exampleAgreements)
        try await TestDatabase.withFresh(maximumConnections: 6) { db async throws in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for admin in ["admin:ada", "admin:grace"] {
                    group.addTask { _ = try await AgreementCatalog(store: db.eventStore).apply(set, actor: admin, at: now) }
                }
                try await group.waitForAll()
            }
            #expect(try await db.eventStore.headPosition() == Int64(set.agreements.count) + 1)
            #expect(try await AgreementCatalog(store: db.eventStore).agreements().count == set.agreements.count)
        }
    }
}

@Suite("batond serve settings: flag, then environment, then file, then default")
struct ServeSettingsTests {
    func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("batond-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("each setting comes from the first source that gives it")
    func precedence() throws {
        let path = try file("port: 7000\nhost: 0.0.0.0\nmaxConnections: 20\nexampleTokens: true\nticketCacheMB: 800\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var flags = ServeSettings.Flags()
        #expect(try ServeSettings.resolve(flags: flags, environment: [:], file: nil) == ServeSettings())
        let fromFile = try ServeSettings.resolve(flags: flags, environment: [:], file: path)
        #expect(fromFile.port == 7000 && fromFile.host == "0.0.0.0" && fromFile.maximumConnections == 20 && fromFile.exampleTokens)
        #expect(fromFile.ticketCacheMB == 800)
        #expect(try ServeSettings.resolve(flags: flags, environment: ["BATON_TICKET_CACHE_MB": "0"], file: path).ticketCacheMB == 0)
        let fromEnvironment = try ServeSettings.resolve(flags: flags, environment: ["BATON_PORT": "7100", "DATABASE_URL": "postgresql:///x"], file: path)
        #expect(fromEnvironment.port == 7100 && fromEnvironment.host == "0.0.0.0" && fromEnvironment.databaseURL == "postgresql:///x")
        flags.port = 7200
        #expect(try ServeSettings.resolve(flags: flags, environment: ["BATON_PORT": "7100"], file: path).port == 7200)
    }

    @Test("a bad value names where it came from and what was expected")
    func invalid() throws {
        #expect(throws: ServeSettings.Invalid(source: "BATON_PORT", expected: "an integer")) {
            try ServeSettings.resolve(flags: .init(), environment: ["BATON_PORT": "eighty"], file: nil)
        }
        #expect(throws: ServeSettings.Invalid(source: "ticket-cache-mb", expected: "MiB from 0 to 1048576")) {
            try ServeSettings.resolve(flags: .init(), environment: ["BATON_TICKET_CACHE_MB": "-1"], file: nil)
        }
        let path = try file("prot: 80\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ServeSettings.Invalid.self) { try ServeSettings.resolve(flags: .init(), environment: [:], file: path) }
        let typed = try file("port: \"80\"\n")
        defer { try? FileManager.default.removeItem(atPath: typed) }
        #expect(throws: ServeSettings.Invalid(source: "\(typed): port", expected: "an integer")) {
            try ServeSettings.resolve(flags: .init(), environment: [:], file: typed)
        }
    }
}
