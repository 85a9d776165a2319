import BatonServer
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres
import TestSupport
import Testing

/// The CLI's work list, reports and administration against a running batond with the example
/// agreements.
@Suite("baton CLI: queue, next, reports, agreements")
struct BatonCLIWorkTests {
    func baton(_ arguments: [String], home: URL, token: String, server: String, environment: [String: String?] = [:]) async throws -> (status: Int32, output: String) {
        var env: [String: String?] = ["XDG_CONFIG_HOME": home.path, "BATON_URL": server, "BATON_TOKEN": token, "NO_COLOR": "1", "COLUMNS": "100"]
        for (key, value) in environment { env[key] = value }
        return await (try ChildProcess(BatonCLITests.baton, arguments, environment: env)).wait()
    }

    @Test("an agent's day from the queue, an auditor's report as table, JSON and CSV, an admin applying agreements, and the errors")
    func workday() async throws {
        try await TestDatabase.withFresh { db async throws in
            let port = Int.random(in: 30_000..<40_000)
            let agreements = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("deploy/examples/agreements.yaml").path
            let batond = try Batond.start(["serve", "--port", "\(port)", "--agreements", agreements], environment: ["DATABASE_URL": db.connectionString])
            defer { batond.signal(SIGTERM) }
            let server = "http://127.0.0.1:\(port)"
            for _ in 0..<300 {
                if let (_, response) = try? await URLSession.shared.data(from: URL(string: "\(server)/readyz")!), (response as? HTTPURLResponse)?.statusCode == 200 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let tokens = TokenStore(client: db.client)
            let agent = try await tokens.create(role: .agent, subject: "ada", name: "Ada", createdBy: "test").token
            let auditor = try await tokens.create(role: .auditor, subject: nil, name: "Audit", createdBy: "test").token
            let admin = try await tokens.create(role: .admin, subject: "root", name: "Root", createdBy: "test").token
            let home = FileManager.default.temporaryDirectory.appendingPathComponent("baton-cli-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(at: home) }
            func run(_ arguments: [String], as token: String = agent) async throws -> (status: Int32, output: String) {
                try await baton(arguments, home: home, token: token, server: server)
            }

            // A call taken by phone: routed at once to the service desk.
            let opened = try await run(["open", "--category", "other", "--site", "city-hall", "--subject", "Badge reader at the north door refuses every badge", "--requester", "jdoe"])
            #expect(opened.status == 0, "\(opened.output)")
            let number = try #require(opened.output.split(separator: " ").dropFirst().first.map(String.init))
            #expect(opened.output.contains("in service-desk"))

            // The work list fits 100 columns and shows the ticket; CSV parses.
            var queue = try await run(["queue", "service-desk"])
            for _ in 0..<50 where !queue.output.contains(number) {
                try await Task.sleep(for: .milliseconds(100))
                queue = try await run(["queue", "service-desk"])
            }
            #expect(queue.status == 0)
            let lines = queue.output.split(separator: "\n")
            #expect(lines.first?.hasPrefix("NUMBER  PRI  STATUS") == true, "\(queue.output)")
            #expect(lines.contains { $0.hasPrefix(number) && $0.contains("queued") && $0.contains("Badge reader") })
            #expect(lines.allSatisfy { $0.count <= 100 })
            let csv = try await run(["queue", "service-desk", "-o", "csv"])
            let rows = csv.output.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
            #expect(rows.first?.first == "number")
            #expect(rows.contains { $0.first.map(String.init) == number })

            // Take it, work it, resolve it.
            let next = try await run(["next", "service-desk", "--wait", "5"])
            #expect(next.status == 0)
            #expect(next.output.hasPrefix("leased \(number)"), "\(next.output)")
            for (arguments, expected) in [
                (["accept", number], "is accepted"),
                (["start", number], "is in-progress"),
                (["hold", number, "--reason", "awaiting-customer", "-m", "Asked for the badge number"], "is on-hold"),
                (["resume", number], "is in-progress"),
                (["comment", number, "-m", "Reset the controller."], "is in-progress"),
                (["priority", number, "P2", "--reason", "Whole wing affected"], "is in-progress"),
                (["resolve", number, "--code", "fixed", "-m", "Controller firmware reloaded."], "is resolved"),
            ] {
                let result = try await run(arguments)
                #expect(result.status == 0, "\(arguments): \(result.output)")
                #expect(result.output.contains(expected), "\(arguments): \(result.output)")
            }
            let show = try await run(["show", number])
            #expect(show.output.contains("customer/resolution"), "\(show.output)")
            #expect(show.output.contains("TicketResolved"))

            // The auditor's month: table, JSON and CSV.
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyy-MM"
            formatter.timeZone = TimeZone(identifier: "UTC")
            let month = formatter.string(from: Date())
            var table = try await run(["report", "compliance", "--month", month], as: auditor)
            for _ in 0..<50 where !table.output.contains("customer") {
                try await Task.sleep(for: .milliseconds(100))
                table = try await run(["report", "compliance", "--month", month], as: auditor)
            }
            #expect(table.status == 0)
            #expect(table.output.hasPrefix("AGREEMENT"), "\(table.output)")
            #expect(table.output.contains("customer"))
            let json = try await run(["report", "compliance", "--month", month, "-o", "json"], as: auditor)
            let parsed = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]]
            #expect(parsed?.contains { $0["agreementId"] as? String == "customer" && $0["kind"] as? String == "resolution" && $0["ended"] as? Int == 1 } == true)
            let reportCSV = try await run(["report", "compliance", "--month", month, "-o", "csv", "--by", "priority"], as: auditor)
            let csvRows = reportCSV.output.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            #expect(csvRows.first?.prefix(5) == ["agreement", "vendor", "kind", "month", "priority"])
            #expect(csvRows.contains { $0[0] == "customer" && $0[2] == "resolution" && $0[4] == "P2" && $0[7] == "1" })
            let credits = try await run(["report", "credits", "--month", month], as: auditor)
            #expect(credits.status == 0)
            #expect(credits.output.contains("northwind-helpdesk"))

            // The admin applies the file again: nothing changes.
            let apply = try await run(["agreements", "apply", agreements, "--yes"], as: admin)
            #expect(apply.status == 0, "\(apply.output)")
            #expect(apply.output.contains("unchanged   northwind-helpdesk"))
            let list = try await run(["agreements", "list"], as: auditor)
            #expect(list.output.split(separator: "\n").contains { $0.hasPrefix("prairie-wan-lan") && $0.split(separator: " ").dropFirst().first == "2" })
            #expect(try await run(["verify"], as: auditor).output.contains("intact"))

            // A live view: redrawn when a new ticket arrives.
            let watch = try ChildProcess(BatonCLITests.baton, ["watch", "service-desk"], environment: [
                "XDG_CONFIG_HOME": home.path, "BATON_URL": server, "BATON_TOKEN": agent, "NO_COLOR": "1", "COLUMNS": "100",
            ])
            try await Task.sleep(for: .seconds(1))
            let second = try await run(["open", "--category", "other", "--subject", "Projector in room 4 shows no signal", "--requester", "jdoe"])
            let secondNumber = try #require(second.output.split(separator: " ").dropFirst().first.map(String.init))
            for _ in 0..<50 where !watch.outputSoFar.contains(secondNumber) { try await Task.sleep(for: .milliseconds(100)) }
            watch.signal(SIGINT)
            let watched = await watch.wait().output
            #expect(watched.contains("service-desk at "), "\(watched)")
            #expect(watched.contains(secondNumber), "the view was not redrawn with the new ticket: \(watched)")

            // Without a queue, an agent's list is the in-house queues.
            let mine = try await run(["queue"])
            #expect(mine.output.contains(secondNumber))
            #expect(mine.output.split(separator: "\n").dropFirst().allSatisfy { $0.contains("service-desk") || $0.contains("infrastructure") })

            // Tokens over the API, as batond tokens does them.
            let made = try await run(["tokens", "create", "--role", "vendor", "--vendor", "civicsoft", "--name", "CivicSoft"], as: admin)
            #expect(made.status == 0)
            #expect(made.output.hasPrefix("baton_"))
            let listed = try await run(["tokens", "list", "--active"], as: admin)
            #expect(listed.output.contains("CivicSoft"))
            #expect(!listed.output.contains(made.output.trimmingCharacters(in: .whitespacesAndNewlines)))

            // Errors: each with its exit code and one line that says what to do.
            let badState = try await run(["queue", "--state", "bogus"])
            #expect(badState.status == 2)
            #expect(badState.output.contains("--state: \"bogus\" is not one of"))
            #expect(try await run(["show", "T-99999"]).status == 3)
            let again = try await run(["accept", number])
            #expect(again.status == 4)
            let auditorOpens = try await run(["open", "--category", "other", "--subject", "x"], as: auditor)
            #expect(auditorOpens.status == 5)
            let agentApplies = try await run(["agreements", "apply", agreements, "--yes"], as: agent)
            #expect(agentApplies.status == 5)
            #expect(agentApplies.output.contains("only admins apply agreements"))
        }
    }
}
