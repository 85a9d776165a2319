import BatonDomain
import BatonServer
import Foundation
import Postgres
import TestSupport
import Testing

/// The `baton` CLI against a running batond, as an agent would use it.
@Suite("baton CLI against a running batond")
struct BatonCLITests {
    static var baton: String { Batond.executable.deletingLastPathComponent().appendingPathComponent("baton").path }

    /// Runs `baton` with its config in `home`; returns exit status and output.
    func baton(_ arguments: [String], home: URL, environment: [String: String?] = [:]) async throws -> (status: Int32, output: String) {
        var env: [String: String?] = ["XDG_CONFIG_HOME": home.path, "BATON_URL": nil, "BATON_TOKEN": nil, "NO_COLOR": "1"]
        for (key, value) in environment { env[key] = value }
        return await (try ChildProcess(Self.baton, arguments, environment: env)).wait()
    }

    @Test("an agent logs in and works a ticket from show to close; each error has its exit code and says what to do")
    func agentsDay() async throws {
        try await TestDatabase.withFresh { db async throws in
            // A ticket in the service desk queue, and an agent's token.
            let tickets = TicketStore(store: db.eventStore)
            let id = TicketStore.ticketId(source: "portal", externalReference: "REQ-7")
            let number = try await tickets.allocateNumber()
            let details = TicketDetails(
                source: "portal", externalReference: "REQ-7", requester: "jdoe@riverside.gov", site: "city-hall", department: "parks",
                category: .helpDesk, subcategory: nil, impact: .medium, urgency: .high, subject: "Printer on floor 3 is jammed",
                description: "Paper stuck in tray 2.")
            let decider = TicketDecider()
            let opened = try decider.decide(.open(OpenTicket(ticketId: id, number: number, details: details)), state: nil, by: .ingest("portal"), at: Date())
            let routed = try decider.decide(
                .route(RoutingDecision(assignment: QueueAssignment(queue: "service-desk"), considerations: []), cause: .opened),
                state: TicketDecider.fold(opened), by: .system, at: Date())
            _ = try await tickets.recordNewTicket(events: opened + routed)
            let token = try await TokenStore(client: db.client).create(role: .agent, subject: "ada", name: "Ada", createdBy: "admin:root").token

            let port = Int.random(in: 40_000..<50_000)
            let server = try Batond.start(["serve", "--port", "\(port)"], environment: ["DATABASE_URL": db.connectionString])
            defer { server.signal(SIGTERM) }
            let home = FileManager.default.temporaryDirectory.appendingPathComponent("baton-cli-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(at: home) }

            var login: (status: Int32, output: String) = (1, "")
            for _ in 0..<100 {
                login = try await baton(["login", "--server", "http://127.0.0.1:\(port)", "--token", token], home: home)
                if login.status == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(login.status == 0, "\(login.output)")
            #expect(login.output.contains("as agent:ada"))
            let mode = try FileManager.default.attributesOfItem(atPath: home.appendingPathComponent("baton/config").path)[.posixPermissions] as? Int
            #expect(mode == 0o600)

            let show = try await baton(["show", number], home: home)
            #expect(show.status == 0)
            #expect(show.output.contains("\(number)  P2  queued  service-desk"))
            #expect(show.output.contains("Printer on floor 3 is jammed"))
            #expect(show.output.contains("TicketRouted"))

            for (arguments, expected) in [
                (["accept", number], "is accepted"),
                (["start", number], "is in-progress"),
                (["comment", number, "-m", "Cleared the jam; testing.", "--internal"], "is in-progress"),
                (["hold", number, "--reason", "awaiting-customer", "-m", "Asked the requester to print a test page"], "is on-hold"),
                (["resume", number], "is in-progress"),
                (["resolve", number, "--code", "fixed", "-m", "Cleared the jam in tray 2."], "is resolved"),
                (["close", number], "is closed"),
            ] {
                let result = try await baton(arguments, home: home)
                #expect(result.status == 0, "\(arguments): \(result.output)")
                #expect(result.output.contains(expected), "\(arguments): \(result.output)")
            }
            let json = try await baton(["history", number.replacingOccurrences(of: "T-", with: ""), "-o", "json"], home: home)
            let events = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]]
            #expect(events?.compactMap { $0["type"] as? String }.last == "TicketClosed")

            // Errors: conflict 4, not found 3, usage 2, auth 5, unreachable 6.
            let again = try await baton(["accept", number], home: home)
            #expect(again.status == 4)
            #expect(again.output.contains("cannot accept: \(number) is closed"))
            #expect(try await baton(["show", "T-999999"], home: home).status == 3)
            let badReason = try await baton(["hold", number, "--reason", "lunch"], home: home)
            #expect(badReason.status == 2)
            #expect(badReason.output.contains("--reason: \"lunch\" is not one of awaiting-customer"))
            let badToken = try await baton(["whoami"], home: home, environment: ["BATON_TOKEN": "baton_nope"])
            #expect(badToken.status == 5)
            #expect(badToken.output.contains("baton login"))
            let down = try await baton(["whoami"], home: home, environment: ["BATON_URL": "http://127.0.0.1:1"])
            #expect(down.status == 6)
            #expect(down.output.contains("cannot reach the server"))
        }
    }
}
