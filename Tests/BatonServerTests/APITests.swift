import BatonAgreementFiles
import BatonServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TestSupport
import Testing

/// The /v1 API over a real socket, with real tokens and tickets.
@Suite("HTTP API: authentication, visibility, actions, problems")
struct APITests {
    struct Fixture {
        let db: TestDatabase.Fresh
        let tickets: TicketStore
        let tokens: TokenStore
    }

    let actionTime = ticketOpenedAt.addingTimeInterval(900)

    func withAPI(_ body: @escaping @Sendable (any TestClientProtocol, Fixture) async throws -> Void) async throws {
        try await TestDatabase.withFresh { db async throws in
            let fixture = Fixture(db: db, tickets: TicketStore(store: db.eventStore), tokens: TokenStore(client: db.client))
            let now = actionTime
            let app = try buildApplication(client: db.client, host: "127.0.0.1", port: 0, logger: Logger(label: "test"), now: { now })
            try await app.test(.live) { client in try await body(client, fixture) }
        }
    }

    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8)) as? [String: Any])
    }

    func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    @Test("/v1 needs a valid token: none, unknown and revoked are 401 problems; whoami names the caller")
    func authentication() async throws {
        try await withAPI { client, fixture async throws in
            try await client.execute(uri: "/v1/whoami", method: .get) { response throws in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(try json(response.body)["code"] as? String == "unauthenticated")
            }
            let (token, record) = try await fixture.tokens.create(role: .vendor, subject: "northwind", name: "Northwind", createdBy: "admin:ada")
            try await client.execute(uri: "/v1/whoami", method: .get, headers: bearer(token)) { response throws in
                #expect(response.status == .ok)
                let body = try json(response.body)
                #expect(body["role"] as? String == "vendor")
                #expect(body["actor"] as? String == "vendor:northwind")
            }
            try await client.execute(uri: "/v1/whoami", method: .get, headers: bearer("baton_not-a-real-token")) { response throws in
                #expect(response.status == .unauthorized)
            }
            // Revoked elsewhere (not through this server), the token stops working once the
            // change's notification arrives.
            _ = try await fixture.tokens.revoke(idPrefix: record.id.uuidString, revokedBy: "admin:ada")
            var status = HTTPResponse.Status.ok
            for _ in 0..<100 {
                status = try await client.execute(uri: "/v1/whoami", method: .get, headers: bearer(token)) { $0.status }
                if status == .unauthorized { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(status == .unauthorized)
            // Health and the API document need no token.
            try await client.execute(uri: "/openapi.yaml", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).hasPrefix("openapi: 3.1.0"))
            }
        }
    }

    @Test("agents and auditors read any ticket; a vendor sees only its own queue's tickets, others answer like missing ones")
    func visibility() async throws {
        try await withAPI { client, fixture async throws in
            try await recordTicket(fixture.tickets)  // T-1000, service desk
            try await recordTicket(fixture.tickets, placement: northwindL1)  // T-1001, Northwind's queue
            let agent = try await fixture.tokens.create(role: .agent, subject: "ada", name: "Ada", createdBy: "admin:root").token
            let auditor = try await fixture.tokens.create(role: .auditor, subject: nil, name: "Audit", createdBy: "admin:root").token
            let northwind = try await fixture.tokens.create(role: .vendor, subject: "northwind", name: "Northwind", createdBy: "admin:root").token
            let contoso = try await fixture.tokens.create(role: .vendor, subject: "contoso", name: "Contoso", createdBy: "admin:root").token

            for token in [agent, auditor] {
                try await client.execute(uri: "/v1/tickets/T-1000", method: .get, headers: bearer(token)) { response throws in
                    #expect(response.status == .ok)
                    let body = try json(response.body)
                    #expect(body["number"] as? String == "T-1000")
                    #expect(body["queue"] as? String == "service-desk")
                    #expect(body["status"] as? String == "queued")
                }
            }
            try await client.execute(uri: "/v1/tickets/1001", method: .get, headers: bearer(northwind)) { response throws in
                #expect(response.status == .ok)
                #expect(try json(response.body)["vendorId"] as? String == "northwind")
            }
            var answers: [String] = []
            for (token, number) in [(northwind, "T-1000"), (contoso, "T-1001"), (agent, "T-4242")] {
                try await client.execute(uri: "/v1/tickets/\(number)", method: .get, headers: bearer(token)) { response throws in
                    #expect(response.status == .notFound)
                    let body = try json(response.body)
                    #expect(body["code"] as? String == "ticket-not-found")
                    answers.append((body["title"] as? String ?? "") + "|" + (body["detail"] as? String ?? "").replacingOccurrences(of: number, with: "N"))
                }
            }
            #expect(Set(answers).count == 1, "a hidden ticket must answer exactly like a missing one")
            // A vendor's view of the history starts where the ticket entered its queue, without
            // the routing trace; an agent sees everything.
            try await client.execute(uri: "/v1/tickets/T-1001/events", method: .get, headers: bearer(northwind)) { response throws in
                #expect(response.status == .ok)
                let events = try json(response.body)["events"] as? [[String: Any]]
                #expect(events?.compactMap { $0["type"] as? String } == ["TicketRouted"])
                let data = events?.first?["data"] as? [String: Any]
                #expect(data?["trace"] == nil)
                #expect(data?["assignment"] != nil)
            }
            try await client.execute(uri: "/v1/tickets/T-1001/events", method: .get, headers: bearer(agent)) { response throws in
                let events = try json(response.body)["events"] as? [[String: Any]]
                #expect(events?.compactMap { $0["type"] as? String } == ["TicketOpened", "TicketRouted"])
                #expect((events?.last?["data"] as? [String: Any])?["trace"] != nil)
            }
        }
    }

    @Test("accept once is 200; accepting again is a 409 naming the status and allowed actions; a repeated Idempotency-Key answers as the first time")
    func actions() async throws {
        try await withAPI { client, fixture async throws in
            try await recordTicket(fixture.tickets)
            let agent = try await fixture.tokens.create(role: .agent, subject: "ada", name: "Ada", createdBy: "admin:root").token
            var headers = bearer(agent)
            headers[.init("Idempotency-Key")!] = "accept-1"
            try await client.execute(uri: "/v1/tickets/T-1000/accept", method: .post, headers: headers) { response throws in
                #expect(response.status == .ok)
                let body = try json(response.body)
                #expect((body["ticket"] as? [String: Any])?["status"] as? String == "accepted")
                #expect(body["repeated"] as? Bool == false)
                #expect((body["events"] as? [String])?.isEmpty == false)
            }
            try await client.execute(uri: "/v1/tickets/T-1000/accept", method: .post, headers: headers) { response throws in
                #expect(response.status == .ok)
                #expect(try json(response.body)["repeated"] as? Bool == true)
            }
            try await client.execute(uri: "/v1/tickets/T-1000/accept", method: .post, headers: bearer(agent)) { response throws in
                #expect(response.status == .conflict)
                let body = try json(response.body)
                #expect(body["code"] as? String == "invalid-transition")
                #expect(body["ticketStatus"] as? String == "accepted")
                #expect((body["allowedActions"] as? [String])?.contains("comment") == true)
            }
            // The same key on another ticket is another request, not a repeat of this one.
            try await recordTicket(fixture.tickets)
            try await client.execute(uri: "/v1/tickets/T-1001/accept", method: .post, headers: headers) { response throws in
                #expect(response.status == .ok)
                #expect(try json(response.body)["repeated"] as? Bool == false)
                #expect((try json(response.body)["ticket"] as? [String: Any])?["number"] as? String == "T-1001")
            }
            let comment = ByteBuffer(string: #"{"body":"Called the requester; reset scheduled.","visibility":"requester"}"#)
            try await client.execute(uri: "/v1/tickets/T-1000/comments", method: .post, headers: bearer(agent), body: comment) { response throws in
                #expect(response.status == .ok)
            }
            let history = try await fixture.tickets.events(of: try #require(try await fixture.tickets.ticketId(number: "T-1000")))
            #expect(history.last?.actor.rawValue == "agent:ada")
            #expect(history.last?.occurredAt == actionTime)
        }
    }

    @Test("auditors cannot act (403); bodies that are not the documented JSON are 400 problems naming the field")
    func refusals() async throws {
        try await withAPI { client, fixture async throws in
            try await recordTicket(fixture.tickets)
            let auditor = try await fixture.tokens.create(role: .auditor, subject: nil, name: "Audit", createdBy: "admin:root").token
            let agent = try await fixture.tokens.create(role: .agent, subject: "ada", name: "Ada", createdBy: "admin:root").token
            try await client.execute(uri: "/v1/tickets/T-1000/accept", method: .post, headers: bearer(auditor)) { response throws in
                #expect(response.status == .forbidden)
                #expect(try json(response.body)["code"] as? String == "forbidden")
            }
            var headers = bearer(agent)
            headers[.contentType] = "application/json"
            let cases: [(String, String, String)] = [
                ("/v1/tickets/T-1000/comments", #"{"visibility":"internal"}"#, "body: is required"),
                ("/v1/tickets/T-1000/comments", #"{"body":"   "}"#, "body: a comment of 1 to 20000 characters"),
                ("/v1/tickets/T-1000/resolve", #"{"code":"fixed"}"#, "note: is required"),
                ("/v1/tickets/T-1000/hold", #"{"reason":"gone fishing"}"#, #"reason: "gone fishing" is not one of the values"#),
            ]
            for (uri, body, detail) in cases {
                try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { response throws in
                    #expect(response.status == .badRequest, "\(uri) \(body)")
                    let problem = try json(response.body)
                    #expect(problem["code"] as? String == "invalid-request")
                    #expect((problem["detail"] as? String)?.contains(detail) == true, "\(problem["detail"] ?? "no detail") should mention \(detail)")
                }
            }
            // A body over 1 MiB is refused before any handler sees it.
            let huge = ByteBuffer(string: #"{"body":""# + String(repeating: "x", count: 2 << 20) + #""}"#)
            try await client.execute(uri: "/v1/tickets/T-1000/comments", method: .post, headers: headers, body: huge) { response throws in
                #expect(response.status == .contentTooLarge)
                #expect(try json(response.body)["code"] as? String == "body-too-large")
            }
            // Nothing was appended by any refused request.
            let history = try await fixture.tickets.events(of: try #require(try await fixture.tickets.ticketId(number: "T-1000")))
            #expect(history.count == 2)
        }
    }

    @Test("an agent works a ticket from accept to close over HTTP; every step is an event by the agent")
    func agentsDay() async throws {
        try await withAPI { client, fixture async throws in
            try await recordTicket(fixture.tickets)
            try await recordTicket(fixture.tickets)
            let agent = try await fixture.tokens.create(role: .agent, subject: "ada", name: "Ada", createdBy: "admin:root").token
            var headers = bearer(agent)
            headers[.contentType] = "application/json"
            let steps: [(String, String?, String)] = [
                ("accept", nil, "accepted"),
                ("start", nil, "in-progress"),
                ("hold", #"{"reason":"awaiting-customer","note":"waiting for the requester's reply"}"#, "on-hold"),
                ("resume", nil, "in-progress"),
                ("priority", #"{"priority":"P1","reason":"the whole office is affected"}"#, "in-progress"),
                ("escalate", #"{"reason":"needs the identity team"}"#, "in-progress"),
                ("resolve", #"{"code":"fixed","note":"Account unlocked."}"#, "resolved"),
                ("reopen", #"{"reason":"still cannot log in"}"#, "in-progress"),
                ("resolve", #"{"code":"fixed","note":"Password reset again; confirmed by phone."}"#, "resolved"),
                ("close", nil, "closed"),
            ]
            for (action, body, status) in steps {
                try await client.execute(uri: "/v1/tickets/T-1000/\(action)", method: .post, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response throws in
                    #expect(response.status == .ok, "\(action): \(String(buffer: response.body))")
                    let ticket = try json(response.body)["ticket"] as? [String: Any]
                    #expect(ticket?["status"] as? String == status, "after \(action)")
                }
            }
            try await client.execute(uri: "/v1/tickets/T-1000", method: .get, headers: headers) { response throws in
                let ticket = try json(response.body)
                #expect(ticket["priority"] as? String == "P1")
                #expect(ticket["escalationLevel"] as? Int == 1)
            }
            try await client.execute(uri: "/v1/tickets/T-1001/cancel", method: .post, headers: headers, body: ByteBuffer(string: #"{"reason":"duplicate of T-1000"}"#)) { response throws in
                #expect((try json(response.body)["ticket"] as? [String: Any])?["status"] as? String == "cancelled")
            }
            try await client.execute(uri: "/v1/tickets/T-1001/reopen", method: .post, headers: headers, body: ByteBuffer(string: #"{"reason":" "}"#)) { response throws in
                #expect(response.status == .badRequest)
                #expect((try json(response.body)["detail"] as? String)?.hasPrefix("reason:") == true)
            }
            let history = try await fixture.tickets.events(of: try #require(try await fixture.tickets.ticketId(number: "T-1000")))
            #expect(history.dropFirst(2).allSatisfy { $0.actor.rawValue == "agent:ada" })
            #expect(history.count == 2 + steps.count, "\(history.map(\.event.typeName))")
        }
    }

    @Test("a ticket as it stood at a past instant is folded from the events that had occurred by then")
    func asOf() async throws {
        try await withAPI { client, fixture async throws in
            try await recordTicket(fixture.tickets)
            let agent = try await fixture.tokens.create(role: .agent, subject: "ada", name: "Ada", createdBy: "admin:root").token
            try await client.execute(uri: "/v1/tickets/T-1000/accept", method: .post, headers: bearer(agent)) { response throws in
                #expect(response.status == .ok)
            }
            let formatter = ISO8601DateFormatter()
            let between = formatter.string(from: ticketOpenedAt.addingTimeInterval(60))
            let before = formatter.string(from: ticketOpenedAt.addingTimeInterval(-60))
            try await client.execute(uri: "/v1/tickets/T-1000?asOf=\(between)", method: .get, headers: bearer(agent)) { response throws in
                #expect(try json(response.body)["status"] as? String == "queued")
            }
            try await client.execute(uri: "/v1/tickets/T-1000", method: .get, headers: bearer(agent)) { response throws in
                #expect(try json(response.body)["status"] as? String == "accepted")
            }
            try await client.execute(uri: "/v1/tickets/T-1000/events?until=\(between)", method: .get, headers: bearer(agent)) { response throws in
                #expect((try json(response.body)["events"] as? [Any])?.count == 2)
            }
            try await client.execute(uri: "/v1/tickets/T-1000?asOf=\(before)", method: .get, headers: bearer(agent)) { response throws in
                #expect(response.status == .notFound)
                #expect(try json(response.body)["code"] as? String == "ticket-not-yet-opened")
            }
            // Fractional seconds and any UTC offset are read too (RFC 3339).
            let offset = "2026-03-10T09:01:00.250-05:00".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            try await client.execute(uri: "/v1/tickets/T-1000?asOf=\(offset)", method: .get, headers: bearer(agent)) { response throws in
                #expect(response.status == .ok)
                #expect(try json(response.body)["status"] as? String == "queued")
            }
            try await client.execute(uri: "/v1/tickets/T-1000?asOf=yesterday", method: .get, headers: bearer(agent)) { response throws in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test("auditors verify the chain over HTTP; agents may not; vendors see only their own agreements")
    func auditAndAgreements() async throws {
        try await withAPI { client, fixture async throws in
            try await recordTicket(fixture.tickets)
            _ = try await AgreementCatalog(store: fixture.tickets.store).apply(
                try AgreementsFile.load(contentsOf: exampleAgreements), actor: "admin:root", at: ticketOpenedAt)
            let auditor = try await fixture.tokens.create(role: .auditor, subject: nil, name: "Audit", createdBy: "admin:root").token
            let agent = try await fixture.tokens.create(role: .agent, subject: "ada", name: "Ada", createdBy: "admin:root").token
            let northwind = try await fixture.tokens.create(role: .vendor, subject: "northwind", name: "Northwind", createdBy: "admin:root").token
            let expected = try await fixture.tickets.store.verify()
            try await client.execute(uri: "/v1/integrity", method: .get, headers: bearer(auditor)) { response throws in
                #expect(response.status == .ok)
                let body = try json(response.body)
                #expect(body["intact"] as? Bool == true)
                #expect((body["eventCount"] as? Int).map(Int64.init) == expected.eventCount)
                #expect(body["headHash"] as? String == expected.headHash.hexString)
            }
            try await client.execute(uri: "/v1/integrity", method: .get, headers: bearer(agent)) { response throws in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/agreements", method: .get, headers: bearer(agent)) { response throws in
                let ids = (try json(response.body)["agreements"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
                #expect(Set(ids ?? []) == ["civicsoft-apps", "infrastructure-ola", "northwind-helpdesk", "prairie-wan-lan", "service-desk-ola"])
                #expect(ids?.count == 6)
            }
            try await client.execute(uri: "/v1/agreements", method: .get, headers: bearer(northwind)) { response throws in
                let ids = (try json(response.body)["agreements"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
                #expect(ids == ["northwind-helpdesk"])
            }
        }
    }
}
