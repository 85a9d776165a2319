import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import Testing

/// The README's tour, against the real batond binary: example tokens printed at start, a
/// ticket opened with curl-like requests, leased and resolved by its vendor, its history read.
@Suite("The README tour, against batond serve --example-tokens")
struct TourTests {
    func request(_ method: String, _ url: String, token: String, json: [String: Any]? = nil) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let body = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, body)
    }

    @Test("make run's tokens work: open a ticket, lease and resolve it as the vendor, read its history")
    func tour() async throws {
        try await TestDatabase.withFresh { db async throws in
            let port = Int.random(in: 50_000..<60_000)
            let agreements = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("deploy/examples/agreements.yaml").path
            let server = try Batond.start(
                ["serve", "--port", "\(port)", "--agreements", agreements, "--example-tokens"], environment: ["DATABASE_URL": db.connectionString])
            defer { server.signal(SIGTERM) }
            var tokens: [String: String] = [:]
            for _ in 0..<300 where tokens.count < 8 {
                try await Task.sleep(for: .milliseconds(100))
                for line in server.outputSoFar.split(separator: "\n") {
                    let words = line.split(separator: " ")
                    guard let last = words.last, last.hasPrefix("baton_"), words.count >= 2 else { continue }
                    tokens[words.dropLast().joined(separator: " ")] = String(last)
                }
            }
            let base = "http://127.0.0.1:\(port)"
            let ingest = try #require(tokens["ingest portal"], "tokens printed: \(tokens.keys.sorted()) in \(server.outputSoFar)")
            let vendor = try #require(tokens["vendor civicsoft"])
            let agent = try #require(tokens["agent ada"])
            #expect(tokens["admin admin"] != nil && tokens["auditor"] != nil && tokens["vendor northwind"] != nil)

            let (status, opened) = try await request("POST", "\(base)/v1/tickets", token: ingest, json: [
                "requester": "jdoe@riverside.gov", "category": "application-services", "subcategory": "permitting",
                "subject": "Permit portal rejects uploads",
            ])
            #expect(status == 201, "\(opened)")
            let number = try #require((opened["ticket"] as? [String: Any])?["number"] as? String)
            #expect((opened["routing"] as? [String: Any])?["queue"] as? String == "civicsoft-apps")

            let (_, grant) = try await request("POST", "\(base)/v1/leases", token: vendor, json: ["wait": 10])
            #expect((grant["leases"] as? [[String: Any]])?.compactMap { $0["number"] as? String } == [number])
            #expect(try await request("POST", "\(base)/v1/tickets/\(number)/accept", token: vendor).0 == 200)
            let (resolved, _) = try await request(
                "POST", "\(base)/v1/tickets/\(number)/resolve", token: vendor, json: ["code": "fixed", "note": "Raised the upload limit."])
            #expect(resolved == 200)
            let (_, history) = try await request("GET", "\(base)/v1/tickets/\(number)/events", token: agent)
            #expect((history["events"] as? [[String: Any]])?.compactMap { $0["type"] as? String }
                == ["TicketOpened", "TicketRouted", "TicketLeased", "TicketAccepted", "TicketResolved"])

            // The read model's standing, and a rebuild while batond serves.
            let standing = try await Batond.run(["projections", "status"], environment: ["DATABASE_URL": db.connectionString])
            #expect(standing.status == 0)
            #expect(standing.output.contains("tickets"), "\(standing.output)")
            let rebuild = try await Batond.run(["projections", "rebuild", "tickets"], environment: ["DATABASE_URL": db.connectionString])
            #expect(rebuild.status == 0, "\(rebuild.output)")
            #expect(rebuild.output.contains("rebuilt tickets from"))
            let (_, list) = try await request("GET", "\(base)/v1/tickets?state=resolved", token: agent)
            #expect((list["tickets"] as? [[String: Any]])?.compactMap { $0["number"] as? String } == [number])
            let unknown = try await Batond.run(["projections", "rebuild", "nonsense"], environment: ["DATABASE_URL": db.connectionString])
            #expect(unknown.status != 0)
            #expect(unknown.output.contains("no projection is called nonsense"))

            // A second start revokes the first start's tokens.
            server.signal(SIGTERM)
            _ = await server.wait()
            let again = try Batond.start(["serve", "--port", "\(port + 1)", "--example-tokens"], environment: ["DATABASE_URL": db.connectionString])
            defer { again.signal(SIGTERM) }
            for _ in 0..<300 where !again.outputSoFar.contains("Example tokens") { try await Task.sleep(for: .milliseconds(100)) }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await request("GET", "http://127.0.0.1:\(port + 1)/v1/whoami", token: agent).0 == 401)
        }
    }
}
