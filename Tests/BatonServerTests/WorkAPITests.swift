import BatonAgreementFiles
import BatonDomain
import BatonProjections
import BatonServer
import EventStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Postgres
import Synchronization
import TestSupport
import Testing

/// Opening, listing, leasing, rejecting: the API with the example agreements and the tickets
/// projection running, over a real socket.
@Suite("HTTP API: opening, routing, listing and leasing tickets")
struct WorkAPITests {
    /// Sunday 2026-03-15 12:00 UTC: the city's service desk is closed, Northwind takes help-desk work.
    static let sunday = Date(timeIntervalSince1970: 1_773_576_000)

    struct Fixture: Sendable {
        let db: TestDatabase.Fresh
        let admin: ProjectionAdmin
        let ingest: String
        let agent: String
        let auditor: String
        let northwind: String
        let prairie: String
        /// Stops the tickets projection, for a test of what the read model has not seen.
        let stopProjecting: @Sendable () async -> Void

        /// Waits until the projections have applied every event appended so far.
        func settle() async throws {
            let head = try await db.eventStore.headPosition()
            #expect(try await admin.waitUntilApplied(head, timeout: .seconds(60)), "projections did not catch up with position \(head)")
        }
    }

    /// `now`: batond's clock (by default, stopped on a Sunday).
    func withWorkAPI(
        logger: Logger = Logger(label: "test"), now: @escaping @Sendable () -> Date = { WorkAPITests.sunday },
        _ body: @escaping @Sendable (any TestClientProtocol, Fixture) async throws -> Void
    ) async throws {
        try await TestDatabase.withFresh(maximumConnections: 20) { db async throws in
            let set = try AgreementsFile.load(contentsOf: exampleAgreements)
            _ = try await AgreementCatalog(store: db.eventStore).apply(set, actor: "admin:root", at: Self.sunday)
            let tokens = TokenStore(client: db.client)
            func token(_ role: Principal.Role, _ subject: String?) async throws -> String {
                let made = try await tokens.create(role: role, subject: subject, name: "\(role.rawValue) \(subject ?? "")", createdBy: "admin:root")
                return made.token
            }
            // As batond shares them: the projection stores what it folds, the lease path reads it.
            let histories = TicketHistories()
            var runner = ProjectionRunner(
                projection: TicketsProjection(store: db.eventStore, histories: histories), store: db.eventStore, logger: Logger(label: "test"))
            runner.pollInterval = .milliseconds(100)
            let projecting = Task { [runner] in try await runner.run() }
            defer { projecting.cancel() }
            let fixture = Fixture(
                db: db, admin: ProjectionAdmin(store: db.eventStore, projections: Projections.all(store: db.eventStore)),
                ingest: try await token(.ingest, "portal"), agent: try await token(.agent, "ada"),
                auditor: try await token(.auditor, nil), northwind: try await token(.vendor, "northwind"),
                prairie: try await token(.vendor, "prairie-networks"),
                stopProjecting: {
                    projecting.cancel()
                    _ = await projecting.result
                })
            let changed = ChangeSignal()
            let listener = await db.eventStore.listen(channels: [ProjectionRunner.notificationChannel], signalling: changed)
            defer { listener.stop() }
            let app = try buildApplication(
                client: db.client, host: "127.0.0.1", port: 0, logger: logger, projectionsChanged: changed,
                ticketHistories: histories, now: now)
            try await app.test(.live) { client in try await body(client, fixture) }
            projecting.cancel()
            _ = await projecting.result
        }
    }

    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8)) as? [String: Any])
    }

    func headers(_ token: String, key: String? = nil) -> HTTPFields {
        var fields: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
        if let key { fields[.init("Idempotency-Key")!] = key }
        return fields
    }

    func body(_ object: [String: Any]) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
    }

    /// Opens a ticket as the portal and returns the answer.
    @discardableResult
    func open(
        _ client: some TestClientProtocol, _ fixture: Fixture, category: String = "help-desk", priority: String? = nil,
        reference: String = UUID().uuidString, subject: String = "Printer on 3rd floor jams"
    ) async throws -> [String: Any] {
        var request: [String: Any] = [
            "requester": "jdoe@riverside.gov", "site": "city-hall", "category": category, "subject": subject,
            "externalReference": reference,
        ]
        if let priority { request["priority"] = priority }
        return try await client.execute(uri: "/v1/tickets", method: .post, headers: headers(fixture.ingest), body: try body(request)) { response throws in
            #expect(response.status == .created, "\(String(buffer: response.body))")
            return try json(response.body)
        }
    }

    static func number(_ answer: [String: Any]) -> String {
        (answer["ticket"] as? [String: Any])?["number"] as? String ?? "?"
    }

    @Test("a vendor's ticket from opening to resolution: routed on open, leased, accepted, started, resolved, its history complete")
    func vendorLife() async throws {
        try await withWorkAPI { client, fixture async throws in
            let opened = try await open(client, fixture, reference: "INC-1")
            let ticket = try #require(opened["ticket"] as? [String: Any])
            let routing = try #require(opened["routing"] as? [String: Any])
            #expect(ticket["status"] as? String == "queued")
            #expect(routing["vendorId"] as? String == "northwind")
            #expect((routing["queue"] as? String)?.hasPrefix("northwind-") == true)
            #expect((routing["trace"] as? [String])?.isEmpty == true, "an ingest source does not see other agreements")
            let clocks = try #require(opened["clocks"] as? [[String: Any]])
            #expect(Set(clocks.compactMap { $0["id"] as? String }).isSuperset(of: ["customer/first-response", "customer/resolution"]))
            #expect(clocks.allSatisfy { $0["dueAt"] is String })
            let number = Self.number(opened)

            // The same external ticket again: the same ticket, nothing new.
            let head = try await fixture.db.eventStore.headPosition()
            try await client.execute(uri: "/v1/tickets", method: .post, headers: headers(fixture.ingest), body: try body([
                "requester": "jdoe@riverside.gov", "site": "city-hall", "category": "help-desk", "subject": "again", "externalReference": "INC-1",
            ])) { response throws in
                #expect(response.status == .ok)
                let again = try json(response.body)
                #expect(again["duplicate"] as? Bool == true)
                #expect(Self.number(again) == number)
            }
            #expect(try await fixture.db.eventStore.headPosition() == head)

            try await fixture.settle()
            let leased = try await client.execute(uri: "/v1/leases", method: .post, headers: headers(fixture.northwind), body: try body(["max": 5, "wait": 2])) { response throws in
                #expect(response.status == .ok)
                return try json(response.body)["leases"] as? [[String: Any]] ?? []
            }
            #expect(leased.compactMap { $0["number"] as? String } == [number])
            #expect(leased.first?["leaseHolder"] as? String == "vendor:northwind")
            for (path, payload) in [("accept", [String: Any]()), ("start", [:]), ("resolve", ["code": "fixed", "note": "Cleared the jam; replaced the roller."])] {
                try await client.execute(uri: "/v1/tickets/\(number)/\(path)", method: .post, headers: headers(fixture.northwind), body: try body(payload)) { response throws in
                    #expect(response.status == .ok, "\(path): \(String(buffer: response.body))")
                }
            }
            try await client.execute(uri: "/v1/tickets/\(number)/events", method: .get, headers: headers(fixture.agent)) { response throws in
                let types = (try json(response.body)["events"] as? [[String: Any]])?.compactMap { $0["type"] as? String }
                #expect(types == ["TicketOpened", "TicketRouted", "TicketLeased", "TicketAccepted", "WorkStarted", "TicketResolved"])
            }
            try await fixture.settle()
            try await client.execute(uri: "/v1/tickets?state=resolved", method: .get, headers: headers(fixture.northwind)) { response throws in
                let tickets = try json(response.body)["tickets"] as? [[String: Any]]
                #expect(tickets?.compactMap { $0["number"] as? String } == [number])
                #expect(tickets?.first?["status"] as? String == "resolved")
            }
        }
    }

    /// `workers` lease requests for up to `max` tickets each, as Northwind, all at once: the
    /// numbers each was granted.
    func leaseAtOnce(_ client: some TestClientProtocol, _ fixture: Fixture, workers: Int, max: Int) async throws -> [[String]] {
        try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<workers {
                group.addTask {
                    try await client.execute(uri: "/v1/leases", method: .post, headers: headers(fixture.northwind), body: try body(["max": max])) { response throws in
                        #expect(response.status == .ok)
                        return (try json(response.body)["leases"] as? [[String: Any]] ?? []).compactMap { $0["number"] as? String }
                    }
                }
            }
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
    }

    @Test("20 workers racing for 10 queued tickets lease each ticket exactly once")
    func leaseRace() async throws {
        try await withWorkAPI { client, fixture async throws in
            var numbers = Set<String>()
            for i in 0..<10 { numbers.insert(Self.number(try await open(client, fixture, reference: "RACE-\(i)"))) }
            try await fixture.settle()
            let granted = try await leaseAtOnce(client, fixture, workers: 20, max: 1).flatMap { $0 }
            #expect(granted.count == 10, "\(granted.count) leases granted for 10 tickets")
            #expect(Set(granted) == numbers)
            // Each ticket's stream holds exactly one lease.
            var leaseEvents = 0
            for number in numbers {
                let id = try #require(try await TicketStore(store: fixture.db.eventStore).ticketId(number: number))
                leaseEvents += try await fixture.db.eventStore.readStream(TicketStore.streamName(id)).filter { $0.type == "TicketLeased" }.count
            }
            #expect(leaseEvents == 10)
            // The projection took the leases as the lease path stored them, undecoded: its
            // tables are what a rebuild from the log gives.
            try await expectRebuildKeeps(fixture)
        }
    }

    /// The tickets projection's tables, once it has caught up, equal a rebuild's from the log.
    func expectRebuildKeeps(_ fixture: Fixture) async throws {
        try await fixture.settle()
        let tables = [("rm_tickets", "ticket_id"), ("rm_sla_clocks", "ticket_id, clock_id"), ("rm_compliance", "1"), ("rm_queue_load", "1")]
        func snapshot() async throws -> [[String]] {
            var rows: [[String]] = []
            for (table, order) in tables {
                rows.append(try await fixture.db.client.query("SELECT row_to_json(t)::text FROM \(unescaped: table) t ORDER BY \(unescaped: order)")
                    .map { try $0.decode(String.self, at: 0) })
            }
            return rows
        }
        let live = try await snapshot()
        #expect(live[0].count > 0)
        _ = try await fixture.admin.rebuild("tickets")
        #expect(try await snapshot() == live)
    }

    @Test("a lease decides on the ticket as the log has it, when the log is ahead of the read model and of what the projection last folded")
    func leaseReadsWhatTheProjectionHasNotSeen() async throws {
        try await withWorkAPI { client, fixture async throws in
            let urgent = Self.number(try await open(client, fixture, priority: "P2", reference: "AHEAD-1"))
            let later = Self.number(try await open(client, fixture, priority: "P4", reference: "AHEAD-2"))
            try await fixture.settle()
            // The projection has folded both tickets at version 2 (opened, routed). It stops;
            // then a comment takes the urgent ticket's stream to version 3, which neither the
            // read model nor the folded streams know of.
            await fixture.stopProjecting()
            try await client.execute(
                uri: "/v1/tickets/\(urgent)/comments", method: .post, headers: headers(fixture.agent), body: try body(["body": "Called the requester."])
            ) { response throws in
                #expect(response.status == .ok)
            }
            // The lease takes the urgent ticket at version 3: deciding at version 2 would have
            // lost the append to the comment, and left the request empty.
            let granted = try await leaseAtOnce(client, fixture, workers: 1, max: 1)
            #expect(granted == [[urgent]], "later: \(later)")
            let id = try #require(try await TicketStore(store: fixture.db.eventStore).ticketId(number: urgent))
            let types = try await fixture.db.eventStore.readStream(TicketStore.streamName(id)).map(\.type)
            #expect(types == ["TicketOpened", "TicketRouted", "CommentAdded", "TicketLeased"])
        }
    }

    @Test("12 workers asking for 2 tickets each at once get 2 each, no ticket twice, and only urgent ones")
    func leaseRaceInBatches() async throws {
        try await withWorkAPI { client, fixture async throws in
            // 30 urgent tickets (P2) and 6 that can wait (P4), opened in mixed order. 24 are
            // asked for: concurrent grants lock a few spare candidates each, and the urgent
            // tickets outnumber the demand by more than those spares.
            var urgent = Set<String>()
            for i in 0..<36 {
                let number = Self.number(try await open(client, fixture, priority: i % 6 == 5 ? "P4" : "P2", reference: "BATCH-\(i)"))
                if i % 6 != 5 { urgent.insert(number) }
            }
            try await fixture.settle()
            let granted = try await leaseAtOnce(client, fixture, workers: 12, max: 2)
            #expect(granted.map(\.count) == Array(repeating: 2, count: 12))
            // Leases run out on a whole second (see LeaseDesk.expiry), as the log keeps them.
            let expiries = try await fixture.db.client.query("""
                SELECT lease_expires_at, next_deadline_at, (SELECT data->>'expiresAt' FROM events
                    WHERE stream = 'ticket-' || t.ticket_id AND type = 'TicketLeased') FROM rm_tickets t WHERE lease_holder IS NOT NULL
                """)
            #expect(expiries.count == 24)
            for row in expiries {
                let marked = try row.decode(Date.self, at: 0)
                #expect(marked.timeIntervalSince1970 == marked.timeIntervalSince1970.rounded())
                #expect(try #require(try row.decode(Date?.self, at: 1)) <= marked, "the watcher's next deadline comes by the lease's end")
                #expect(try ISO8601Instant.parse(#require(try row.decode(String?.self, at: 2))) == marked)
            }
            #expect(Set(granted.joined()).count == 24)
            #expect(Set(granted.joined()).isSubset(of: urgent))
            try await fixture.settle()
            let leased = try await fixture.db.client.query("SELECT count(*) FROM events WHERE type = 'TicketLeased'")[0].decode(Int.self, at: 0)
            #expect(leased == 24)
            let marked = try await fixture.db.client.query("SELECT count(*) FROM rm_tickets WHERE lease_holder = 'vendor:northwind'")[0].decode(Int.self, at: 0)
            #expect(marked == 24)
        }
    }

    @Test("a ticket whose history this batond cannot read is passed over; the lease request still gets the others")
    func leaseSkipsUnreadableTicket() async throws {
        try await withWorkAPI { client, fixture async throws in
            let unreadable = Self.number(try await open(client, fixture, priority: "P1", reference: "ODD-1"))
            let readable = Self.number(try await open(client, fixture, priority: "P3", reference: "ODD-2"))
            try await fixture.settle()
            // An event of a type this build does not know, on the most urgent ticket (the
            // projection stops at it, so the read model still offers that ticket first).
            let id = try #require(try await TicketStore(store: fixture.db.eventStore).ticketId(number: unreadable))
            _ = try await fixture.db.eventStore.append(
                to: TicketStore.streamName(id), expectedVersion: .any,
                events: [NewEvent(type: "TicketTeleported", data: Array(#"{"to":"mars"}"#.utf8), occurredAt: Date(), actor: "system")])
            try await client.execute(uri: "/v1/leases", method: .post, headers: headers(fixture.northwind), body: try body(["max": 2])) { response throws in
                #expect(response.status == .ok)
                let leased = (try json(response.body)["leases"] as? [[String: Any]] ?? []).compactMap { $0["number"] as? String }
                #expect(leased == [readable])
            }
        }
    }

    @Test("a long-polling lease request is answered when a ticket arrives, not at the end of its wait")
    func longPoll() async throws {
        try await withWorkAPI { client, fixture async throws in
            let started = ContinuousClock.now
            async let leased = client.execute(uri: "/v1/leases", method: .post, headers: headers(fixture.northwind), body: try body(["wait": 15])) { response throws in
                (try json(response.body)["leases"] as? [[String: Any]] ?? []).compactMap { $0["number"] as? String }
            }
            try await Task.sleep(for: .milliseconds(500))
            // Opened beside the HTTP client, which is busy with the waiting request.
            let tickets = TicketStore(store: fixture.db.eventStore)
            let opener = TicketOpener(
                tickets: tickets, agreements: AgreementCache(catalog: AgreementCatalog(store: fixture.db.eventStore)),
                queries: TicketQueries(client: fixture.db.client))
            let details = TicketDetails(
                source: "portal", externalReference: nil, requester: "a@riverside.gov", site: "city-hall", department: nil,
                category: .helpDesk, subcategory: nil, impact: .medium, urgency: .medium, subject: "Monitor flickers", description: "")
            let opened = try await opener.open(details, priority: nil, by: .ingest("portal"), at: Self.sunday)
            let got = try await leased
            #expect(got == [opened.ticket.number])
            // A crowded test run can take seconds to open the ticket: the bound leaves room for that
            // and still lies before the 15 s wait ends (and the test client's own 20 s read timeout).
            #expect(ContinuousClock.now - started < .seconds(12), "the wait ended on the new ticket, not on the timeout")
        }
    }

    @Test("a rejected ticket is routed again at once, away from the vendor that rejected it, which is not told where")
    func rejection() async throws {
        try await withWorkAPI { client, fixture async throws in
            let number = Self.number(try await open(client, fixture))
            try await client.execute(uri: "/v1/tickets/\(number)/reject", method: .post, headers: headers(fixture.northwind), body: try body(["reason": "not a supported printer model"])) { response throws in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let answer = try json(response.body)
                #expect(answer["events"] as? [String] == ["TicketRejected", "TicketRouted"])
                let ticket = answer["ticket"] as? [String: Any]
                #expect(ticket?["status"] as? String == "queued")
                for field in ["vendorId", "queue", "agreementId", "agreementVersion", "leaseHolder"] { #expect(ticket?[field] == nil, "\(field)") }
            }
            try await client.execute(uri: "/v1/tickets/\(number)", method: .get, headers: headers(fixture.northwind)) { response throws in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/tickets/\(number)", method: .get, headers: headers(fixture.agent)) { response throws in
                #expect(response.status == .ok)
                #expect(try json(response.body)["queue"] as? String == "service-desk")
            }
        }
    }

    @Test("a vendor sees the customer's clocks and its own placement's, not the clocks of the queues the ticket was in before")
    func vendorSeesItsOwnClocks() async throws {
        try await withWorkAPI { client, fixture async throws in
            let number = Self.number(try await open(client, fixture, category: "wan-lan"))
            try await client.execute(
                uri: "/v1/tickets/\(number)/reassign", method: .post, headers: headers(fixture.agent),
                body: try body(["queue": "northwind-l1", "reason": "the switch is in the help desk's closet"])
            ) { response throws in #expect(response.status == .ok, "\(String(buffer: response.body))") }
            func clocks(_ token: String) async throws -> [String] {
                try await client.execute(uri: "/v1/tickets/\(number)", method: .get, headers: headers(token)) { response throws in
                    #expect(response.status == .ok)
                    return (try json(response.body)["clocks"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }.sorted()
                }
            }
            let all = try await clocks(fixture.agent)
            #expect(all.contains("assignment-1/resolution") && all.contains("assignment-2/resolution"), "\(all)")
            let own = try await clocks(fixture.northwind)
            #expect(own == all.filter { !$0.hasPrefix("assignment-1/") }, "\(own) of \(all)")
        }
    }

    @Test("a queue as it stood shows a vendor only the tickets that are still its own")
    func vendorQueueAsItStood() async throws {
        let clock = SettableClock(Self.sunday)
        try await withWorkAPI(now: { clock.now }) { client, fixture async throws in
            let kept = Self.number(try await open(client, fixture, reference: "Q-1"))
            let given = Self.number(try await open(client, fixture, reference: "Q-2"))
            clock.advance(by: 60)
            try await client.execute(uri: "/v1/tickets/\(given)/reject", method: .post, headers: headers(fixture.northwind), body: try body(["reason": "not ours"])) { response throws in
                #expect(response.status == .ok)
            }
            func listed(_ token: String) async throws -> [String] {
                let then = ISO8601Instant.format(Self.sunday.addingTimeInterval(30))
                return try await client.execute(uri: "/v1/queues/northwind-l1?asOf=\(then)", method: .get, headers: headers(token)) { response throws in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                    return (try json(response.body)["tickets"] as? [[String: Any]] ?? []).compactMap { $0["number"] as? String }.sorted()
                }
            }
            // The service desk sees the queue as it stood, with both; the vendor the one it kept.
            #expect(try await listed(fixture.agent) == [kept, given].sorted())
            #expect(try await listed(fixture.northwind) == [kept])
        }
    }

    @Test("lists come in work order, a page at a time, filtered, and each caller sees only what it may")
    func listing() async throws {
        try await withWorkAPI { client, fixture async throws in
            for (i, priority) in ["P4", "P1", "P3", "P2", "P5", "P3", "P1"].enumerated() {
                try await open(client, fixture, priority: priority, reference: "L-\(i)")
            }
            try await open(client, fixture, category: "wan-lan", reference: "NET-1")
            try await fixture.settle()
            var pages: [[String]] = []
            var cursor: String?
            repeat {
                let uri = "/v1/tickets?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                cursor = try await client.execute(uri: uri, method: .get, headers: headers(fixture.agent)) { response throws in
                    #expect(response.status == .ok)
                    let page = try json(response.body)
                    pages.append((page["tickets"] as? [[String: Any]] ?? []).compactMap { $0["number"] as? String })
                    return page["nextCursor"] as? String
                }
            } while cursor != nil && pages.count < 10
            // A page's cursor is the same text from every replica and after a restart: its keys
            // in sorted order, not in the order of this process's hashing.
            let firstCursor = try await client.execute(uri: "/v1/tickets?limit=3", method: .get, headers: headers(fixture.agent)) { response throws in
                try #require(try json(response.body)["nextCursor"] as? String)
            }
            let cursorText = try #require(Data(base64Encoded: firstCursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")))
            let keys = try #require(try JSONSerialization.jsonObject(with: cursorText) as? [String: Any]).keys.sorted()
            let offsets = keys.map { String(decoding: cursorText, as: UTF8.self).range(of: "\"\($0)\":")?.lowerBound }
            #expect(keys == ["due", "number", "opened", "priority"])
            #expect(offsets.allSatisfy { $0 != nil } && offsets.compactMap { $0 } == offsets.compactMap { $0 }.sorted(), "\(String(decoding: cursorText, as: UTF8.self))")
            let all = pages.flatMap { $0 }
            #expect(pages.map(\.count) == [3, 3, 2])
            #expect(Set(all).count == 8)
            let everything = try await client.execute(uri: "/v1/tickets?limit=500", method: .get, headers: headers(fixture.agent)) { response throws in
                try json(response.body)["tickets"] as? [[String: Any]] ?? []
            }
            #expect(everything.compactMap { $0["number"] as? String } == all)
            // Work order: the earliest due first.
            let dues = everything.compactMap { $0["nextDueAt"] as? String }
            #expect(dues == dues.sorted())
            try await client.execute(uri: "/v1/tickets?priority=P1", method: .get, headers: headers(fixture.agent)) { response throws in
                let priorities = (try json(response.body)["tickets"] as? [[String: Any]])?.compactMap { $0["priority"] as? String }
                #expect(priorities == ["P1", "P1"])
            }
            // A vendor sees exactly the tickets in its own queues.
            let vendors = everything.map { $0["vendorId"] as? String }
            for (vendor, token) in [("northwind", fixture.northwind), ("prairie-networks", fixture.prairie)] {
                try await client.execute(uri: "/v1/tickets?limit=500", method: .get, headers: headers(token)) { response throws in
                    let tickets = try json(response.body)["tickets"] as? [[String: Any]] ?? []
                    #expect(tickets.allSatisfy { $0["vendorId"] as? String == vendor })
                    #expect(tickets.count == vendors.filter { $0 == vendor }.count)
                }
            }
            #expect(vendors.contains("northwind"))
            // Not one this server handed out: garbage, and a well-formed cursor whose priority
            // is text no ticket has (a NUL once reached PostgreSQL and failed there).
            let forged = Data(#"{"due":0,"priority":"P\u0000","opened":0,"number":1}"#.utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            for cursor in ["not-a-cursor", forged] {
                try await client.execute(uri: "/v1/tickets?cursor=\(cursor)", method: .get, headers: headers(fixture.agent)) { response throws in
                    #expect(response.status == .badRequest, "\(cursor)")
                    #expect((try json(response.body)["detail"] as? String)?.hasPrefix("cursor") == true)
                }
            }
        }
    }

    @Test("the same Idempotency-Key with the same body answers as the first time; with another body it is a 422 and changes nothing")
    func idempotencyKeyReuse() async throws {
        try await withWorkAPI { client, fixture async throws in
            let request: [String: Any] = ["requester": "a@b.c", "category": "help-desk", "site": "city-hall", "subject": "VPN drops"]
            let first = try await client.execute(uri: "/v1/tickets", method: .post, headers: headers(fixture.ingest, key: "open-1"), body: try body(request)) { response throws in
                #expect(response.status == .created)
                return Self.number(try json(response.body))
            }
            try await client.execute(uri: "/v1/tickets", method: .post, headers: headers(fixture.ingest, key: "open-1"), body: try body(request)) { response throws in
                #expect(response.status == .ok)
                #expect(Self.number(try json(response.body)) == first)
            }
            var changed = request
            changed["subject"] = "VPN drops every hour"
            let head = try await fixture.db.eventStore.headPosition()
            try await client.execute(uri: "/v1/tickets", method: .post, headers: headers(fixture.ingest, key: "open-1"), body: try body(changed)) { response throws in
                #expect(response.status == .unprocessableContent)
                #expect(try json(response.body)["code"] as? String == "idempotency-key-reused")
            }
            for (text, status) in [("On my way.", HTTPResponse.Status.ok), ("On my way.", .ok), ("Different words.", .unprocessableContent)] {
                try await client.execute(
                    uri: "/v1/tickets/\(first)/comments", method: .post, headers: headers(fixture.agent, key: "comment-1"), body: try body(["body": text])
                ) { response throws in
                    #expect(response.status == status, "\(text)")
                }
            }
            let comments = try await fixture.db.eventStore.readStream(
                TicketStore.streamName(try #require(try await TicketStore(store: fixture.db.eventStore).ticketId(number: first)))
            ).filter { $0.type == "CommentAdded" }
            #expect(comments.count == 1)
            #expect(try await fixture.db.eventStore.headPosition() == head + 1)
        }
    }

    @Test("a lease renewed with an Idempotency-Key and retried later answers as the first time; the key with another length is a 422")
    func renewRetriedLater() async throws {
        let clock = SettableClock(Self.sunday)
        try await withWorkAPI(now: { clock.now }) { client, fixture async throws in
            let number = Self.number(try await open(client, fixture))
            try await fixture.settle()
            try await client.execute(uri: "/v1/leases", method: .post, headers: headers(fixture.northwind), body: try body(["max": 1])) { response throws in
                #expect(response.status == .ok)
            }
            func renew(_ seconds: Int) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(
                    uri: "/v1/tickets/\(number)/lease", method: .put, headers: headers(fixture.northwind, key: "renew-1"), body: try body(["leaseSeconds": seconds])
                ) { response throws in (response.status, try json(response.body)) }
            }
            let (status, first) = try await renew(600)
            #expect(status == .ok)
            let expiresAt = (first["ticket"] as? [String: Any])?["leaseExpiresAt"] as? String
            #expect(expiresAt != nil)
            let head = try await fixture.db.eventStore.headPosition()
            // The retry comes a minute later: the lease it asks for would end a minute later.
            clock.advance(by: 60)
            let (again, second) = try await renew(600)
            #expect(again == .ok)
            #expect(second["repeated"] as? Bool == true)
            #expect((second["ticket"] as? [String: Any])?["leaseExpiresAt"] as? String == expiresAt)
            let (other, problem) = try await renew(900)
            #expect(other == .unprocessableContent)
            #expect(problem["code"] as? String == "idempotency-key-reused")
            #expect(try await fixture.db.eventStore.headPosition() == head)
        }
    }

    @Test("a hold retried after its until-time has passed is answered as the first time, not refused for the past until-time")
    func holdRetriedAfterItsEnd() async throws {
        let clock = SettableClock(Self.sunday)
        try await withWorkAPI(now: { clock.now }) { client, fixture async throws in
            let number = Self.number(try await open(client, fixture))
            let until = ISO8601DateFormatter().string(from: Self.sunday.addingTimeInterval(3_600))
            func hold() async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(
                    uri: "/v1/tickets/\(number)/hold", method: .post, headers: headers(fixture.agent, key: "hold-1"),
                    body: try body(["reason": "awaiting-customer", "until": until])
                ) { response throws in (response.status, try json(response.body)) }
            }
            let (status, first) = try await hold()
            #expect(status == .ok)
            #expect(first["events"] as? [String] == ["TicketPutOnHold"])
            let head = try await fixture.db.eventStore.headPosition()
            // The retry comes after the hold's until-time: as a new request, it would be refused.
            clock.advance(by: 7_200)
            let (again, second) = try await hold()
            #expect(again == .ok, "\(second)")
            #expect(second["repeated"] as? Bool == true)
            #expect(second["events"] as? [String] == ["TicketPutOnHold"])
            #expect(try await fixture.db.eventStore.headPosition() == head)
            // A new hold with the same until-time, under another key, is refused naming the field.
            try await client.execute(
                uri: "/v1/tickets/\(number)/hold", method: .post, headers: headers(fixture.agent, key: "hold-2"),
                body: try body(["reason": "awaiting-customer", "until": until])
            ) { response throws in
                #expect(response.status == .badRequest)
                #expect(try json(response.body)["detail"] as? String == "until: an instant in the future")
            }
        }
    }

    @Test("a key whose request was refused and recorded nothing may be sent again with a corrected request, after a 400 or a 409; then it is bound")
    func keyFreedAfterRefusal() async throws {
        try await withWorkAPI { client, fixture async throws in
            let number = Self.number(try await open(client, fixture))
            func hold(key: String, until: TimeInterval) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(
                    uri: "/v1/tickets/\(number)/hold", method: .post, headers: headers(fixture.agent, key: key),
                    body: try body(["reason": "awaiting-customer", "until": ISO8601DateFormatter().string(from: Self.sunday.addingTimeInterval(until))])
                ) { response throws in (response.status, try json(response.body)) }
            }
            let head = try await fixture.db.eventStore.headPosition()
            let (refused, problem) = try await hold(key: "hold-1", until: -60)
            #expect(refused == .badRequest)
            #expect(problem["detail"] as? String == "until: an instant in the future")
            #expect(try await fixture.db.eventStore.headPosition() == head)
            // Corrected, under the same key: done, not refused as a reused key.
            let (done, answer) = try await hold(key: "hold-1", until: 3_600)
            #expect(done == .ok, "\(answer)")
            #expect(answer["repeated"] as? Bool == false)
            #expect(answer["events"] as? [String] == ["TicketPutOnHold"])
            // Now the key is bound to the request that was done.
            let (repeated, again) = try await hold(key: "hold-1", until: 3_600)
            #expect(repeated == .ok)
            #expect(again["repeated"] as? Bool == true)
            let (other, reused) = try await hold(key: "hold-1", until: 7_200)
            #expect(other == .unprocessableContent)
            #expect(reused["code"] as? String == "idempotency-key-reused")
            // Refused by the ticket's state (it is on hold already), then sent again corrected
            // for a later end, once the ticket has resumed: done.
            let (onHold, refusal) = try await hold(key: "hold-2", until: 3_600)
            #expect(onHold == .conflict)
            #expect(refusal["code"] as? String == "invalid-transition")
            try await client.execute(uri: "/v1/tickets/\(number)/resume", method: .post, headers: headers(fixture.agent)) { response throws in
                #expect(response.status == .ok)
            }
            let (later, held) = try await hold(key: "hold-2", until: 7_200)
            #expect(later == .ok, "\(held)")
            #expect(held["repeated"] as? Bool == false)
        }
    }

    @Test("a vendor's rejection retried with its Idempotency-Key after the ticket left its queues is answered as the first time, still without where it went")
    func rejectionRetried() async throws {
        try await withWorkAPI { client, fixture async throws in
            let number = Self.number(try await open(client, fixture))
            func reject(key: String?, reason: String = "not a supported printer model") async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(
                    uri: "/v1/tickets/\(number)/reject", method: .post, headers: headers(fixture.northwind, key: key), body: try body(["reason": reason])
                ) { response throws in (response.status, try json(response.body)) }
            }
            let (status, first) = try await reject(key: "reject-1")
            #expect(status == .ok, "\(first)")
            #expect(first["events"] as? [String] == ["TicketRejected", "TicketRouted"])
            let head = try await fixture.db.eventStore.headPosition()
            // The ticket is in the service desk's queue now, not Northwind's.
            let (again, second) = try await reject(key: "reject-1")
            #expect(again == .ok, "\(second)")
            #expect(second["repeated"] as? Bool == true)
            #expect(second["events"] as? [String] == ["TicketRejected", "TicketRouted"])
            let ticket = second["ticket"] as? [String: Any]
            #expect(ticket?["status"] as? String == "queued")
            for field in ["vendorId", "queue", "agreementId", "agreementVersion", "leaseHolder"] { #expect(ticket?[field] == nil, "\(field)") }
            // The same key with another reason is a reused key; without the key, or with
            // another, the ticket is not Northwind's to see.
            let (other, reused) = try await reject(key: "reject-1", reason: "a different reason")
            #expect(other == .unprocessableContent)
            #expect(reused["code"] as? String == "idempotency-key-reused")
            for key in [nil, "reject-2"] {
                let (unseen, problem) = try await reject(key: key)
                #expect(unseen == .notFound, "\(key ?? "no key")")
                #expect(problem["code"] as? String == "ticket-not-found")
            }
            #expect(try await fixture.db.eventStore.headPosition() == head)
        }
    }

    @Test("a reassignment retried with its Idempotency-Key after the target queue's agreement ended is answered as the first time; another queue under the key is a 422")
    func reassignmentRetriedAfterAgreementEnded() async throws {
        let clock = SettableClock(Self.sunday)
        try await withWorkAPI(now: { clock.now }) { client, fixture async throws in
            let number = Self.number(try await open(client, fixture))
            func reassign(to queue: String, key: String?) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(
                    uri: "/v1/tickets/\(number)/reassign", method: .post, headers: headers(fixture.agent, key: key),
                    body: try body(["queue": queue, "reason": "a desktop problem, not the help desk's"])
                ) { response throws in (response.status, try json(response.body)) }
            }
            let (status, first) = try await reassign(to: "northwind-desktop", key: "move-1")
            #expect(status == .ok, "\(first)")
            #expect((first["ticket"] as? [String: Any])?["queue"] as? String == "northwind-desktop")
            let head = try await fixture.db.eventStore.headPosition()
            // Northwind's agreement ends on 2028-01-01.
            clock.advance(by: TimeInterval(3 * 366 * 86_400))
            let (refused, problem) = try await reassign(to: "northwind-desktop", key: "move-2")
            #expect(refused == .badRequest)
            #expect((problem["detail"] as? String)?.hasPrefix("queue: ") == true, "\(problem)")
            let (again, second) = try await reassign(to: "northwind-desktop", key: "move-1")
            #expect(again == .ok, "\(second)")
            #expect(second["repeated"] as? Bool == true)
            #expect(second["events"] as? [String] == first["events"] as? [String])
            #expect((second["ticket"] as? [String: Any])?["agreementId"] as? String == "northwind-helpdesk")
            let (other, reused) = try await reassign(to: "service-desk", key: "move-1")
            #expect(other == .unprocessableContent)
            #expect(reused["code"] as? String == "idempotency-key-reused")
            #expect(try await fixture.db.eventStore.headPosition() == head)
        }
    }

    @Test("a vendor's action on a ticket that leaves its queues while the action waits is a 404, as for any ticket not its own")
    func ticketLeavesWhileActing() async throws {
        try await withWorkAPI { client, fixture async throws in
            let number = Self.number(try await open(client, fixture))
            let id = try #require(try await TicketStore(store: fixture.db.eventStore).ticketId(number: number))
            // The vendor's comment is held after it has found the ticket its own, at its
            // Idempotency-Key, until the ticket has moved to the service desk.
            let commented = try await fixture.db.client.withTransaction { blocking in
                try await blocking.execute("LOCK TABLE idempotency_keys IN EXCLUSIVE MODE")
                let commenting = Task {
                    try await client.execute(
                        uri: "/v1/tickets/\(number)/comments", method: .post, headers: headers(fixture.northwind, key: "comment-1"),
                        body: try body(["body": "Looking into it."])
                    ) { response throws in (response.status, try json(response.body)["code"] as? String) }
                }
                #expect(try await waitFor {
                    try await fixture.db.client.query("""
                        SELECT 1 FROM pg_stat_activity
                        WHERE datname = \(fixture.db.name) AND wait_event_type = 'Lock' AND query LIKE '%idempotency_keys%'
                        """).count == 1
                })
                _ = try await TicketCommands(tickets: TicketStore(store: fixture.db.eventStore)).execute(
                    .reassign(QueueAssignment(queue: "service-desk"), reason: "on-site work"), on: id, by: .agent("ada"), at: Self.sunday)
                return commenting
            }
            let (status, code) = try await commented.value
            #expect(status == .notFound)
            #expect(code == "ticket-not-found")
            #expect(!(try await fixture.db.eventStore.readStream(TicketStore.streamName(id)).map(\.type)).contains("CommentAdded"))
        }
    }

    @Test("each caller's feed: agents see every ticket's events in log order; a vendor its own tickets from their placement; resumable")
    func feed() async throws {
        try await withWorkAPI { client, fixture async throws in
            let northwindTicket = Self.number(try await open(client, fixture, reference: "F-1"))
            try await client.execute(uri: "/v1/tickets", method: .post, headers: headers(fixture.ingest), body: try body([
                "requester": "a@b.c", "category": "application-services", "subcategory": "permitting", "subject": "Permit portal down",
            ])) { response throws in #expect(response.status == .created) }
            try await fixture.settle()
            func page(_ token: String, after: String? = nil) async throws -> (entries: [(String, String)], next: String, traces: Int) {
                try await client.execute(uri: "/v1/feed" + (after.map { "?after=\($0)" } ?? ""), method: .get, headers: headers(token)) { response throws in
                    #expect(response.status == .ok)
                    let body = try json(response.body)
                    let entries = body["entries"] as? [[String: Any]] ?? []
                    let pairs = entries.map { ($0["number"] as? String ?? "", ($0["event"] as? [String: Any])?["type"] as? String ?? "") }
                    let traces = entries.filter { (($0["event"] as? [String: Any])?["data"] as? [String: Any])?["trace"] != nil }.count
                    return (pairs, body["nextCursor"] as? String ?? "", traces)
                }
            }
            let all = try await page(fixture.agent)
            #expect(all.entries.map(\.1) == ["TicketOpened", "TicketRouted", "TicketOpened", "TicketRouted"])
            #expect(all.next == String(try await fixture.db.eventStore.headPosition()))
            // An ingest source sees its own tickets, without routing traces.
            let sent = try await page(fixture.ingest)
            #expect(sent.entries.count == 4)
            #expect(sent.traces == 0)
            #expect(all.traces == 2)
            let mine = try await page(fixture.northwind)
            #expect(mine.entries.map(\.0) == [northwindTicket])
            #expect(mine.entries.map(\.1) == ["TicketRouted"])
            #expect(mine.traces == 0)

            try await client.execute(uri: "/v1/tickets/\(northwindTicket)/accept", method: .post, headers: headers(fixture.northwind)) { response throws in
                #expect(response.status == .ok)
            }
            try await fixture.settle()
            let next = try await page(fixture.northwind, after: mine.next)
            #expect(next.entries.map(\.1) == ["TicketAccepted"])
            #expect(try await page(fixture.northwind, after: next.next).entries.isEmpty)
            try await client.execute(uri: "/v1/feed?after=yesterday", method: .get, headers: headers(fixture.agent)) { response throws in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test("an admin applies an agreements document over HTTP; a broken one is a 422 naming each problem and records nothing")
    func applyAgreements() async throws {
        try await withWorkAPI { client, fixture async throws in
            let yaml = try String(contentsOf: exampleAgreements, encoding: .utf8)
            var admin = headers(try await TokenStore(client: fixture.db.client).create(role: .admin, subject: "root", name: "root", createdBy: "test").token)
            admin[.contentType] = "application/yaml"
            try await client.execute(uri: "/v1/agreements", method: .put, headers: admin, body: ByteBuffer(string: yaml)) { response throws in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let changes = try json(response.body)["changes"] as? [[String: Any]] ?? []
                #expect(!changes.isEmpty && changes.allSatisfy { $0["action"] as? String == "unchanged" })
            }
            let head = try await fixture.db.eventStore.headPosition()
            let broken = yaml.replacingOccurrences(of: "P1: { firstResponse: 15m, resolution: 4h }", with: "P1: { firstResponse: 15 minutes, resolution: 4h }")
            try await client.execute(uri: "/v1/agreements", method: .put, headers: admin, body: ByteBuffer(string: broken)) { response throws in
                #expect(response.status == .unprocessableContent)
                let detail = try json(response.body)["detail"] as? String ?? ""
                #expect(detail.contains("targets.P1.firstResponse"), "\(detail)")
            }
            var asJSON = admin
            asJSON[.contentType] = "application/json"
            try await client.execute(uri: "/v1/agreements", method: .put, headers: asJSON, body: ByteBuffer(string: #"{"defaultQueue": "front-desk"}"#)) { response throws in
                #expect(response.status == .unprocessableContent)
                #expect((try json(response.body)["detail"] as? String)?.contains("customerSLA") == true)
            }
            #expect(try await fixture.db.eventStore.headPosition() == head)
            try await client.execute(
                uri: "/v1/agreements", method: .put, headers: admin,
                body: ByteBuffer(string: yaml.replacingOccurrences(of: "defaultQueue: service-desk", with: "defaultQueue: front-desk"))
            ) { response throws in
                let changes = try json(response.body)["changes"] as? [[String: Any]] ?? []
                #expect(changes.filter { $0["action"] as? String != "unchanged" }.compactMap { $0["agreementId"] as? String } == ["(service policy)"])
            }
            var agent = headers(fixture.agent)
            agent[.contentType] = "application/yaml"
            try await client.execute(uri: "/v1/agreements", method: .put, headers: agent, body: ByteBuffer(string: yaml)) { response throws in
                #expect(response.status == .forbidden)
            }
        }
    }

    @Test("an NDJSON import answers every line in order; bad lines are rejected with the reason and the rest go through")
    func ndjsonImport() async throws {
        try await withWorkAPI { client, fixture async throws in
            let long = String(repeating: "x", count: 70_000)
            let lines = [
                #"{"requester":"a@b.c","category":"help-desk","site":"city-hall","subject":"one","externalReference":"N-1"}"#,
                #"{"requester":"a@b.c","category":"help-desk","subject":"#,
                #"{"requester":"a@b.c","category":"plumbing","subject":"three"}"#,
                "",
                #"{"requester":"a@b.c","category":"help-desk","site":"city-hall","subject":"again","externalReference":"N-1"}"#,
                #"{"requester":"a@b.c","category":"help-desk","subject":"\#(long)"}"#,
                #"{"requester":"a@b.c","category":"wan-lan","subject":"   "}"#,
                #"{"requester":"a@b.c","category":"application-services","subcategory":"permitting","subject":"last, no newline"}"#,
            ]
            var headers = headers(fixture.ingest)
            headers[.contentType] = "application/x-ndjson"
            let results = try await client.execute(
                uri: "/v1/tickets/import", method: .post, headers: headers, body: ByteBuffer(string: lines.joined(separator: "\n"))
            ) { response throws in
                #expect(response.status == .ok)
                return try String(buffer: response.body).split(separator: "\n").map {
                    try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
                }
            }
            #expect(results.compactMap { $0["line"] as? Int } == [1, 2, 3, 5, 6, 7, 8])
            #expect(results.compactMap { $0["status"] as? String } == ["accepted", "rejected", "rejected", "duplicate", "rejected", "rejected", "accepted"])
            #expect(results[3]["number"] as? String == results[0]["number"] as? String)
            #expect((results[2]["reason"] as? String)?.contains("category") == true)
            #expect((results[4]["reason"] as? String)?.contains("longer than") == true)
            #expect((results[5]["reason"] as? String)?.hasPrefix("subject") == true)
            #expect(results[6]["queue"] as? String == "civicsoft-apps")
            // Two tickets, two events each (opened and routed), besides the agreements.
            let tickets = try await fixture.db.client.query("SELECT count(*) FROM ticket_index")[0].decode(Int64.self, at: 0)
            #expect(tickets == 2)
        }
    }

    @Test("an auditor's compliance report as JSON and as CSV; vendors see their own figures only")
    func complianceReport() async throws {
        try await withWorkAPI { client, fixture async throws in
            let number = Self.number(try await open(client, fixture, reference: "R-1"))
            for (path, payload) in [("accept", [String: Any]()), ("resolve", ["code": "fixed", "note": "done"])] {
                try await client.execute(uri: "/v1/tickets/\(number)/\(path)", method: .post, headers: headers(fixture.northwind), body: try body(payload)) { response throws in
                    #expect(response.status == .ok)
                }
            }
            try await fixture.settle()
            let rows = try await client.execute(uri: "/v1/reports/compliance?month=2026-03", method: .get, headers: headers(fixture.auditor)) { response throws in
                #expect(response.status == .ok)
                return try json(response.body)["rows"] as? [[String: Any]] ?? []
            }
            let northwind = rows.filter { $0["agreementId"] as? String == "northwind-helpdesk" }
            #expect(Set(northwind.compactMap { $0["kind"] as? String }) == ["first-response", "resolution"])
            #expect(northwind.allSatisfy { $0["ended"] as? Int == 1 && $0["met"] as? Int == 1 && $0["compliancePercent"] as? Double == 100 })
            #expect(rows.contains { $0["agreementId"] as? String == "customer" })

            var csvHeaders = headers(fixture.auditor)
            csvHeaders[.accept] = "text/csv"
            let csv = try await client.execute(uri: "/v1/reports/compliance?month=2026-03&groupBy=priority", method: .get, headers: csvHeaders) { response throws in
                #expect(response.headers[.contentType]?.hasPrefix("text/csv") == true)
                return String(buffer: response.body)
            }
            let lines = csv.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            #expect(lines.first?.prefix(4) == ["agreement", "vendor", "kind", "month"])
            #expect(lines.dropFirst().allSatisfy { $0.count == lines[0].count })
            #expect(lines.contains { $0[0] == "northwind-helpdesk" && $0[2] == "resolution" && $0[4] == "P3" && $0[7] == "1" })

            try await client.execute(uri: "/v1/reports/compliance?month=2026-03&vendor=northwind", method: .get, headers: headers(fixture.prairie)) { response throws in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/reports/compliance?month=2026-03", method: .get, headers: headers(fixture.prairie)) { response throws in
                let rows = try json(response.body)["rows"] as? [[String: Any]] ?? []
                #expect(rows.allSatisfy { $0["vendorId"] as? String == "prairie-networks" })
            }
            try await client.execute(uri: "/v1/reports/credits?month=2026-03", method: .get, headers: headers(fixture.auditor)) { response throws in
                let rows = try json(response.body)["rows"] as? [[String: Any]] ?? []
                let row = rows.first { $0["agreementId"] as? String == "northwind-helpdesk" }
                #expect(row?["credit"] as? String == "0")
                #expect(row?["monthlyFee"] as? String == "38500")
            }
            try await client.execute(uri: "/v1/reports/compliance?month=March", method: .get, headers: headers(fixture.auditor)) { response throws in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test("a queue as it stood: a ticket routed, reassigned and resolved is in each queue exactly while it was there")
    func queueAsOf() async throws {
        try await withWorkAPI { client, fixture async throws in
            let t0 = Self.sunday
            let tickets = TicketStore(store: fixture.db.eventStore)
            let opener = TicketOpener(
                tickets: tickets, agreements: AgreementCache(catalog: AgreementCatalog(store: fixture.db.eventStore)),
                queries: TicketQueries(client: fixture.db.client))
            let details = TicketDetails(
                source: "portal", externalReference: "Q-1", requester: "a@riverside.gov", site: "city-hall", department: nil,
                category: .helpDesk, subcategory: nil, impact: .medium, urgency: .medium, subject: "Scanner offline", description: "")
            let opened = try await opener.open(details, priority: nil, by: .ingest("portal"), at: t0)
            let queue = try #require(opened.ticket.assignment?.placement.queue)
            let commands = TicketCommands(tickets: tickets)
            _ = try await commands.execute(.hold(.awaitingCustomer), on: opened.ticket.id, by: .agent("ada"), at: t0.addingTimeInterval(600))
            _ = try await commands.execute(.resume, on: opened.ticket.id, by: .agent("ada"), at: t0.addingTimeInterval(1200))
            _ = try await commands.execute(.reassign(QueueAssignment(queue: "service-desk"), reason: "on-site work"), on: opened.ticket.id, by: .agent("ada"), at: t0.addingTimeInterval(1800))
            _ = try await commands.execute(.resolve(code: "fixed", note: "reseated the cable"), on: opened.ticket.id, by: .agent("ada"), at: t0.addingTimeInterval(3600))
            func numbers(_ queue: String, _ offset: TimeInterval) async throws -> [String] {
                let instant = t0.addingTimeInterval(offset).formatted(.iso8601)
                return try await client.execute(uri: "/v1/queues/\(queue)?asOf=\(instant)", method: .get, headers: headers(fixture.auditor)) { response throws in
                    #expect(response.status == .ok)
                    return (try json(response.body)["tickets"] as? [[String: Any]] ?? []).compactMap { $0["number"] as? String }
                }
            }
            let number = opened.ticket.number
            #expect(try await numbers(queue, -60) == [])
            #expect(try await numbers(queue, 60) == [number])
            #expect(try await numbers(queue, 900) == [number])  // on hold, still in the queue
            #expect(try await numbers(queue, 1900) == [])
            #expect(try await numbers("service-desk", 1900) == [number])
            #expect(try await numbers("service-desk", 3700) == [])
            try await client.execute(uri: "/v1/tickets/\(number)?asOf=\(t0.addingTimeInterval(900).formatted(.iso8601))", method: .get, headers: headers(fixture.auditor)) { response throws in
                let ticket = try json(response.body)
                #expect(ticket["status"] as? String == "on-hold")
                #expect(ticket["queue"] as? String == queue)
            }
        }
    }

    @Test("the baton_auditor role reads the read models and nothing else")
    func auditorRole() async throws {
        try await withWorkAPI { client, fixture async throws in
            try await open(client, fixture)
            try await fixture.settle()
            try await fixture.db.client.withConnection { connection in
                try await connection.executeScript("SET ROLE baton_auditor")
                #expect(try await connection.query("SELECT count(*) FROM rm_tickets")[0].decode(Int64.self, at: 0) == 1)
                #expect(try await connection.query("SELECT count(*) FROM rm_sla_clocks")[0].decode(Int64.self, at: 0) > 0)
                for table in ["events", "api_tokens", "ticket_index"] {
                    await #expect(throws: PostgresError.self) { _ = try await connection.query("SELECT 1 FROM \(unescaped: table) LIMIT 1") }
                }
                try await connection.executeScript("RESET ROLE")
            }
        }
    }

    @Test("admins manage tokens over the API: the secret shown once, listed without it, revoked at once; others are refused")
    func tokens() async throws {
        try await withWorkAPI { client, fixture async throws in
            let admin = headers(try await TokenStore(client: fixture.db.client).create(role: .admin, subject: "root", name: "root", createdBy: "test").token)
            let created = try await client.execute(uri: "/v1/tokens", method: .post, headers: admin, body: try body(["role": "vendor", "subject": "civicsoft", "name": "CivicSoft integration"])) { response throws in
                #expect(response.status == .created)
                return try json(response.body)
            }
            let secret = try #require(created["token"] as? String)
            let id = try #require((created["record"] as? [String: Any])?["id"] as? String)
            try await client.execute(uri: "/v1/whoami", method: .get, headers: headers(secret)) { response throws in
                #expect(try json(response.body)["actor"] as? String == "vendor:civicsoft")
            }
            try await client.execute(uri: "/v1/tokens?active=true", method: .get, headers: admin) { response throws in
                let text = String(buffer: response.body)
                #expect(text.contains("CivicSoft integration"))
                #expect(!text.contains(secret))
            }
            try await client.execute(uri: "/v1/tokens/\(id.prefix(8))", method: .delete, headers: admin) { response throws in
                #expect(response.status == .ok)
                #expect(try json(response.body)["revokedAt"] is String)
            }
            try await client.execute(uri: "/v1/whoami", method: .get, headers: headers(secret)) { response throws in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/tokens", method: .post, headers: admin, body: try body(["role": "vendor", "name": "no vendor"])) { response throws in
                #expect(response.status == .badRequest)
                #expect((try json(response.body)["detail"] as? String)?.hasPrefix("subject") == true)
            }
            try await client.execute(uri: "/v1/tokens/00000000", method: .delete, headers: admin) { response throws in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/tokens", method: .get, headers: headers(fixture.agent)) { response throws in
                #expect(response.status == .forbidden)
            }
        }
    }

    @Test("POST /v1/tickets and /v1/leases, served by hand, refuse a wrong content type and a missing body as generated routes do; an Accept without JSON is a 406 before any write")
    func openingMistakesAnswerAsGeneratedRoutes() async throws {
        try await withWorkAPI { client, fixture async throws in
            // A ticket Northwind could lease, so a lease granted by mistake would show.
            try await open(client, fixture)
            try await fixture.settle()
            let head = try await fixture.db.eventStore.headPosition()
            let valid = try body(["requester": "a@b.c", "category": "help-desk", "subject": "x"])
            func answer(_ uri: String, _ fields: HTTPFields, _ body: ByteBuffer?) async throws -> (HTTPResponse.Status, String, String) {
                try await client.execute(uri: uri, method: .post, headers: fields, body: body) { response in
                    (response.status, response.headers[.contentType] ?? "", String(buffer: response.body))
                }
            }
            // POST /v1/tickets/{number}/reject, which takes a JSON body too, is served by the
            // generated server.
            var plain = headers(fixture.northwind)
            plain[.contentType] = "text/plain"
            let rejected = try await answer("/v1/tickets/T-1000/reject", plain, try body(["reason": "not ours"]))
            #expect(rejected.0 == .badRequest)
            for (uri, body) in [("/v1/tickets", valid), ("/v1/leases", try body(["max": 1]))] {
                let refused = try await answer(uri, plain, body)
                #expect(refused.0 == rejected.0 && refused.1 == rejected.1 && refused.2 == rejected.2)
            }

            for accept in ["text/csv, application/json;q=0", "application/problem+json", "*, */*"] {
                var fields = headers(fixture.northwind)
                fields[.accept] = accept
                for (uri, body) in [("/v1/tickets", valid), ("/v1/leases", try body(["max": 1]))] {
                    let refused = try await answer(uri, fields, body)
                    #expect(refused.0 == .notAcceptable, "\(accept)")
                    #expect(refused.1.hasPrefix("application/problem+json"))
                    #expect(try json(ByteBuffer(string: refused.2))["code"] as? String == "not-acceptable")
                }
            }

            let missingReason = try await answer("/v1/tickets/T-1000/reject", headers(fixture.agent), nil)
            #expect(missingReason.0 == .badRequest)
            for uri in ["/v1/tickets", "/v1/leases"] {
                let missing = try await answer(uri, headers(fixture.agent), nil)
                #expect(missing.0 == missingReason.0 && missing.2 == missingReason.2)
            }
            #expect(try await fixture.db.eventStore.headPosition() == head)
        }
    }

    @Test("POST /v1/tickets and /v1/leases take a JSON body whatever the spelling of its Content-Type, or with none, as generated routes do, and answer an Accept that allows JSON")
    func bodiesTakenAsGeneratedRoutesTakeThem() async throws {
        try await withWorkAPI { client, fixture async throws in
            let valid = try body(["requester": "a@b.c", "category": "help-desk", "subject": "x"])
            // POST /v1/tickets/{number}/reject is served by the generated server, which checks
            // the content type before it looks for the ticket: 400 for one it refuses, else 404.
            var taken: [String: Bool] = [:]
            for contentType in [
                "application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8",
                "Application/JSON", "application/*", "*/*", nil, "application/json-seq", "text/json",
            ] as [String?] {
                var vendor = headers(fixture.northwind)
                vendor[.contentType] = contentType
                let generated = try await client.execute(
                    uri: "/v1/tickets/T-1000/reject", method: .post, headers: vendor, body: try body(["reason": "not ours"])
                ) { $0.status }
                let takes = generated == .notFound
                taken[contentType ?? "none"] = takes
                #expect(takes || generated == .badRequest, "\(contentType ?? "none"): \(generated)")
                var agent = headers(fixture.agent)
                agent[.contentType] = contentType
                let opened = try await client.execute(uri: "/v1/tickets", method: .post, headers: agent, body: valid) { $0.status }
                #expect(opened == (takes ? .created : .badRequest), "\(contentType ?? "none")")
                let leased = try await client.execute(uri: "/v1/leases", method: .post, headers: vendor, body: try body(["max": 1])) { $0.status }
                #expect(leased == (takes ? .ok : .badRequest), "\(contentType ?? "none")")
            }
            #expect(taken["application/json; charset=utf-8"] == true && taken["none"] == true && taken["text/json"] == false)
            for accept in ["application/json", "application/*", "*/*", "text/csv, application/json;q=0.5"] {
                var fields = headers(fixture.agent)
                fields[.accept] = accept
                try await client.execute(uri: "/v1/tickets", method: .post, headers: fields, body: valid) { response in
                    #expect(response.status == .created, "\(accept)")
                    #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                }
            }
        }
    }

    @Test("each request is logged once at info, with the id its answer carries in X-Request-Id, and never with its token, query or body")
    func requestsLogged() async throws {
        let lines = Mutex<[String]>([])
        let logger = Logger(label: "batond") { label in
            LogLineHandler(label: label, level: .info) { line in lines.withLock { $0.append(line) } }
        }
        try await withWorkAPI(logger: logger) { client, fixture async throws in
            let subject = "Badge reader \(UUID().uuidString)"
            let reference = UUID().uuidString
            let opened = try await client.execute(
                uri: "/v1/tickets", method: .post, headers: headers(fixture.ingest),
                body: try body(["requester": "a@b.c", "category": "help-desk", "subject": subject, "externalReference": reference])
            ) { response in
                #expect(response.status == .created)
                return response.headers[.init("X-Request-Id")!]
            }
            let listed = try await client.execute(uri: "/v1/tickets?state=queued&limit=5", method: .get, headers: headers(fixture.agent)) { response in
                #expect(response.status == .ok)
                return response.headers[.init("X-Request-Id")!]
            }
            let ids = [try #require(opened), try #require(listed)]
            #expect(ids[0] != ids[1])
            let written = lines.withLock { $0 }
            for (id, words) in zip(ids, [["method=POST", "path=/v1/tickets", "status=201"], ["method=GET", "path=/v1/tickets", "status=200"]]) {
                let logged = written.filter { $0.contains("hb.request.id=\(id) ") }
                #expect(logged.count == 1, "\(id): \(written)")
                let line = try #require(logged.first)
                #expect(line.contains(" info batond: ") && line.hasSuffix(" [BatonServer] request\n"), "\(line)")
                #expect(words.allSatisfy { line.contains(" \($0) ") }, "\(line)")
            }
            for secret in [fixture.ingest, fixture.agent, subject, reference, "state=queued"] {
                #expect(!written.contains { $0.contains(secret) }, "\(secret)")
            }
        }
    }

    @Test("text holding U+0000 is refused naming the field, in bodies, import lines, query parameters and paths; nothing is recorded")
    func nulCharacters() async throws {
        try await withWorkAPI { client, fixture async throws in
            let head = try await fixture.db.eventStore.headPosition()
            func refused(_ response: TestResponse, _ field: String) throws {
                #expect(response.status == .badRequest, "\(field)")
                let detail = try json(response.body)["detail"] as? String
                #expect(detail == "\(field): text without U+0000 (NUL), which PostgreSQL cannot store", "\(field)")
            }
            let valid: [String: Any] = ["requester": "a@b.c", "category": "help-desk", "subject": "x"]
            for field in ["subject", "description", "requester", "site", "source", "externalReference"] {
                var fields = valid
                fields[field] = "a\u{0}b"
                try await client.execute(uri: "/v1/tickets", method: .post, headers: headers(fixture.agent), body: try body(fields)) { try refused($0, field) }
            }
            for (uri, field) in [("/v1/reports/breaches?from=2026-01-01T00:00:00Z&vendor=a%00b", "query parameter vendor"), ("/v1/tickets/T-%001000", "path")] {
                try await client.execute(uri: uri, method: .get, headers: headers(fixture.agent)) { try refused($0, field) }
            }
            let admin = try await TokenStore(client: fixture.db.client).create(role: .admin, subject: "root", name: "root", createdBy: "admin:root").token
            try await client.execute(uri: "/v1/tokens", method: .post, headers: headers(admin), body: try body(["role": "agent", "subject": "bob", "name": "a\u{0}"])) {
                try refused($0, "name")
            }
            #expect(try await fixture.db.eventStore.headPosition() == head)

            var ndjson = headers(fixture.ingest)
            ndjson[.contentType] = "application/x-ndjson"
            let lines = #"{"requester":"a@b.c","category":"help-desk","subject":"a\u0000b"}"# + "\n" + #"{"requester":"a@b.c","category":"help-desk","subject":"fine"}"#
            let results = try await client.execute(uri: "/v1/tickets/import", method: .post, headers: ndjson, body: ByteBuffer(string: lines)) { response throws in
                try String(buffer: response.body).split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            }
            #expect(results.compactMap { $0["status"] as? String } == ["rejected", "accepted"])
            #expect(results.first?["reason"] as? String == "subject: text without U+0000 (NUL), which PostgreSQL cannot store")
        }
    }

    @Test("opening: auditors cannot, an ingest token cannot speak for another source, bad fields are named, nothing is recorded")
    func openingRefusals() async throws {
        try await withWorkAPI { client, fixture async throws in
            let head = try await fixture.db.eventStore.headPosition()
            let valid: [String: Any] = ["requester": "a@b.c", "category": "help-desk", "subject": "x"]
            try await client.execute(uri: "/v1/tickets", method: .post, headers: headers(fixture.auditor), body: try body(valid)) { response throws in
                #expect(response.status == .forbidden)
            }
            var other = valid
            other["source"] = "email"
            try await client.execute(uri: "/v1/tickets", method: .post, headers: headers(fixture.ingest), body: try body(other)) { response throws in
                #expect(response.status == .badRequest)
                #expect((try json(response.body)["detail"] as? String)?.hasPrefix("source") == true)
            }
            var badCategory = valid
            badCategory["category"] = "plumbing"
            try await client.execute(uri: "/v1/tickets", method: .post, headers: headers(fixture.ingest), body: try body(badCategory)) { response throws in
                #expect(response.status == .badRequest)
                #expect((try json(response.body)["detail"] as? String)?.contains("category") == true)
            }
            var blank = valid
            blank["subject"] = "   "
            try await client.execute(uri: "/v1/tickets", method: .post, headers: headers(fixture.ingest), body: try body(blank)) { response throws in
                #expect(response.status == .badRequest)
                #expect((try json(response.body)["detail"] as? String)?.hasPrefix("subject") == true)
            }
            #expect(try await fixture.db.eventStore.headPosition() == head)
        }
    }
}

/// A clock the test moves on.
final class SettableClock: Sendable {
    private let instant: Mutex<Date>
    init(_ instant: Date) { self.instant = Mutex(instant) }
    var now: Date { instant.withLock { $0 } }
    func advance(by seconds: TimeInterval) { instant.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
