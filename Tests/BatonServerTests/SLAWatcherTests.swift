import BatonAgreementFiles
import BatonDomain
import BatonProjections
import BatonServer
import EventStore
import Foundation
import Logging
import TestSupport
import Testing

/// The SLA watcher against a real database and the real clock, with tickets opened in the
/// recent past so that their deadlines fall a few seconds into the test.
@Suite("SLA watcher: breaches, warnings, lease expiries and holds, at the instant")
struct SLAWatcherTests {
    struct Fixture: Sendable {
        let db: TestDatabase.Fresh
        let opener: TicketOpener
        let commands: TicketCommands
        let changed: ChangeSignal
        let agreements: AgreementCache
        let queries: TicketQueries

        /// `pollInterval`: by default far longer than any test waits (`waitFor` gives up after
        /// 60 s), so that a deadline met in time was met by the watcher's timer, never by its
        /// safety-net poll.
        func watcher(pollInterval: Duration = .seconds(3600)) -> SLAWatcher {
            var watcher = SLAWatcher(commands: commands, agreements: agreements, queries: queries, projectionsChanged: changed, logger: Logger(label: "test"))
            watcher.takeoverInterval = .milliseconds(200)
            watcher.pollInterval = pollInterval
            return watcher
        }

        /// Opens a P1 help-desk ticket (Northwind's, around the clock) at `openedAt`.
        func openP1(at openedAt: Date) async throws -> UUID {
            let details = TicketDetails(
                source: "portal", externalReference: nil, requester: "a@riverside.gov", site: "city-hall", department: nil,
                category: .helpDesk, subcategory: nil, impact: .high, urgency: .high, subject: "Dispatch console down", description: "")
            return try await opener.open(details, priority: nil, by: .ingest("portal"), at: openedAt).ticket.id
        }

        func events(_ id: UUID) async throws -> [RecordedEvent] {
            try await db.eventStore.readStream(TicketStore.streamName(id))
        }

        /// A yardstick for the watcher's lateness at `instant`: a task that sleeps until then,
        /// reads `ticket`'s stream, and waits until the projection has applied all of it (the
        /// watcher finds its deadlines in the read model, and folds the stream). It returns how
        /// long after `instant` that took. On a machine loaded by other tests both it and the
        /// watcher run late; a watcher that acted on a coarser clock than its timers would run
        /// late alone. It writes nothing: a write would wake the watcher through the
        /// projection's announcement, and hide a watcher that missed its own time.
        func yardstick(at instant: Date, reading ticket: UUID) -> Task<TimeInterval, any Error> {
            Task { [db] in
                try await Task.sleep(for: .seconds(max(0, instant.timeIntervalSinceNow)))
                let version = try await db.eventStore.readStream(TicketStore.streamName(ticket)).count
                let applied = try await waitFor {
                    let rows = try await db.client.query("SELECT version FROM rm_tickets WHERE ticket_id = \(ticket)")
                    return try rows.first.map { try Int($0.decode(Int32.self, at: 0)) >= version } ?? false
                }
                guard applied else { throw YardstickError() }
                return Date().timeIntervalSince(instant)
            }
        }

        struct YardstickError: Error, CustomStringConvertible {
            var description: String { "the projection did not apply the ticket within a minute" }
        }
    }

    /// The example agreements without the in-house desk, so help-desk work goes to Northwind
    /// whatever the day and hour the test runs.
    func withWatcherFixture(_ body: @Sendable (Fixture) async throws -> Void) async throws {
        var set = try AgreementsFile.load(contentsOf: exampleAgreements)
        set.agreements.removeAll { $0.id == "service-desk-ola" }
        try await TestDatabase.withFresh(maximumConnections: 12) { db async throws in
            let catalog = AgreementCatalog(store: db.eventStore)
            _ = try await catalog.apply(set, actor: "admin:root", at: Date(timeIntervalSince1970: 1_767_225_600))
            var runner = ProjectionRunner(projection: TicketsProjection(store: db.eventStore), store: db.eventStore, logger: Logger(label: "test"))
            runner.pollInterval = .milliseconds(100)
            let projecting = Task { [runner] in try await runner.run() }
            defer { projecting.cancel() }
            let changed = ChangeSignal()
            let listener = await db.eventStore.listen(channels: [ProjectionRunner.notificationChannel], signalling: changed)
            defer { listener.stop() }
            let tickets = TicketStore(store: db.eventStore)
            let agreements = AgreementCache(catalog: catalog)
            let queries = TicketQueries(client: db.client)
            try await body(Fixture(
                db: db, opener: TicketOpener(tickets: tickets, agreements: agreements, queries: queries),
                commands: TicketCommands(tickets: tickets), changed: changed, agreements: agreements, queries: queries))
            projecting.cancel()
            _ = await projecting.result
        }
    }

    /// How much later than the yardstick (``Fixture/yardstick(at:reading:)``) the watcher may
    /// act on a deadline: the instant it decides, which its events carry as their
    /// `occurredAt`. The yardstick takes the machine's load at that moment into account; this
    /// margin is for the watcher's own steps before it decides (finding the deadline). Its
    /// poll is set to an hour, so anything inside this came from its timer.
    static let margin: TimeInterval = 2

    /// How long the watcher may take to record what it decided: folding the stream,
    /// deciding and appending, a few round trips to the database each. Alone they take
    /// milliseconds; with the whole suite running on two cores, up to two seconds were seen.
    /// The bound only catches a watcher that hangs after deciding; the timer is judged by
    /// ``margin``.
    static let recordingBound: TimeInterval = 15

    /// When the watcher decided an event after its deadline, how long it then took to record
    /// it, and what the yardstick took.
    struct Timing: CustomStringConvertible {
        var decided: TimeInterval
        var recording: TimeInterval
        var yardstick: TimeInterval

        /// Decided no earlier than the deadline and at most ``margin`` later than the
        /// yardstick took, and recorded within ``recordingBound`` of deciding.
        var onTime: Bool { decided >= -0.01 && decided < yardstick + margin && recording < recordingBound }

        var description: String {
            "decided \(decided) s after the deadline, recorded \(recording) s after that; the yardstick took \(yardstick) s"
        }
    }

    static func timing(_ event: RecordedEvent, deadline: Date, yardstick: Task<TimeInterval, any Error>) async throws -> Timing {
        Timing(
            decided: event.occurredAt.timeIntervalSince(deadline), recording: event.recordedAt.timeIntervalSince(event.occurredAt),
            yardstick: try await yardstick.value)
    }

    @Test("a first-response breach is recorded at its due instant, with the agreement's escalation; warnings already passed are recorded once")
    func breachAtDueInstant() async throws {
        try await withWatcherFixture { fixture in
            // P1 first response is 15 minutes (customer SLA and Northwind alike): due in 3 s.
            let due = Date().addingTimeInterval(3)
            let id = try await fixture.openP1(at: due.addingTimeInterval(-15 * 60))
            let watching = Task { [w = fixture.watcher()] in try await w.run() }
            defer { watching.cancel() }
            let yardstick = fixture.yardstick(at: due, reading: id)

            #expect(try await waitFor { try await fixture.events(id).contains { $0.type == "TicketEscalated" } })
            let events = try await fixture.events(id)
            let breaches = events.filter { $0.type == "SLABreached" }
            let breachedClocks = try breaches.map { try $0.decode(SLABreached.self).clockId }
            #expect(Set(breachedClocks) == ["customer/first-response", "assignment-1/first-response"])
            for breach in breaches {
                let timing = try await Self.timing(breach, deadline: due, yardstick: yardstick)
                #expect(timing.onTime, "\(timing)")
            }
            // The warnings (50%, 75%, and Northwind's 90%) had passed: each recorded exactly once.
            let warnings = try events.filter { $0.type == "SLAWarningReached" }.map { try $0.decode(SLAWarningReached.self) }
            #expect(warnings.count == Set(warnings.map { "\($0.clockId)@\($0.threshold)" }).count)
            #expect(Set(warnings.filter { $0.clockId == "assignment-1/first-response" }.map(\.threshold)) == [0.5, 0.75, 0.9])
            #expect(events.filter { $0.type == "TicketEscalated" }.count == 1)

            // A restart (another watcher taking over) records nothing again.
            watching.cancel()
            _ = await watching.result
            let count = events.count
            let again = Task { [w = fixture.watcher()] in try await w.run() }
            try await Task.sleep(for: .seconds(1))
            again.cancel()
            _ = await again.result
            #expect(try await fixture.events(id).count == count)
        }
    }

    @Test("a resolution breach applies Northwind's clause: the ticket moves to the escalations queue in the same append")
    func breachClauseMovesTicket() async throws {
        try await withWatcherFixture { fixture in
            // P1 resolution is 4 hours: due in 2 s (the first response breached long ago).
            let due = Date().addingTimeInterval(2)
            let id = try await fixture.openP1(at: due.addingTimeInterval(-4 * 3600))
            let watching = Task { [w = fixture.watcher()] in try await w.run() }
            defer { watching.cancel() }
            #expect(try await waitFor {
                try await fixture.events(id).contains { $0.type == "SLABreached" && (try? $0.decode(SLABreached.self).clockId) == "assignment-1/resolution" }
            })
            let events = try await fixture.events(id)
            let breach = try #require(events.firstIndex { $0.type == "SLABreached" && (try? $0.decode(SLABreached.self).clockId) == "assignment-1/resolution" })
            #expect(events[breach + 1].type == "TicketReassigned")
            #expect(events[breach + 1].position == events[breach].position + 1)
            let ticket = try #require(TicketDecider.fold(events.map(TicketStore.decode)))
            #expect(ticket.assignment?.placement.queue == "service-desk-escalations")
            #expect(ticket.assignment?.placement.vendorId == nil)
        }
    }

    @Test("the watcher reads the deadlines that have come, earliest first, and only the next one after them")
    func deadlinesDueBy() async throws {
        try await withWatcherFixture { fixture in
            // No watcher runs: the deadlines stay where the projection put them.
            let now = Date()
            let older = try await fixture.openP1(at: now.addingTimeInterval(-40 * 60))
            let old = try await fixture.openP1(at: now.addingTimeInterval(-20 * 60))
            let fresh = try await fixture.openP1(at: now)
            let later = try await fixture.openP1(at: now.addingTimeInterval(60))
            #expect(try await waitFor { try await fixture.queries.deadlines(dueBy: .distantFuture, limit: 10).count == 4 })
            let all = try await fixture.queries.deadlines(dueBy: .distantFuture, limit: 10)
            #expect(all.map(\.ticketId) == [older, old, fresh, later])
            #expect(all.map(\.deadline) == all.map(\.deadline).sorted())
            let due = try await fixture.queries.deadlines(dueBy: now, limit: 10)
            #expect(due.map(\.ticketId) == [older, old, fresh])
            #expect(due[1].deadline <= now && due[2].deadline > now)
            #expect(try await fixture.queries.deadlines(dueBy: now, limit: 1).map(\.ticketId) == [older, fresh])
            #expect(try await fixture.queries.deadlines(dueBy: .distantPast, limit: 10).map(\.ticketId) == [older])
            // Page by page: after a cursor, the due ones after it, then the next one.
            #expect(try await fixture.queries.deadlines(dueBy: now, after: (due[0].deadline, older), limit: 10).map(\.ticketId) == [old, fresh])
            #expect(try await fixture.queries.deadlines(dueBy: now, after: (due[1].deadline, old), limit: 10).map(\.ticketId) == [fresh])
        }
    }

    @Test("the tickets to check after a change of the agreements: active ones whose last event came before it, by id, page by page")
    func activeTicketsBefore() async throws {
        try await withWatcherFixture { fixture in
            let now = Date()
            var before: [UUID] = []
            for _ in 0..<3 { before.append(try await fixture.openP1(at: now)) }
            let resolved = try await fixture.openP1(at: now)
            _ = try await fixture.commands.execute(.resolve(code: "fixed", note: "Restarted."), on: resolved, by: .agent("ada"), at: now)
            let head = try await fixture.db.eventStore.headPosition()
            let after = try await fixture.openP1(at: now)
            #expect(try await waitFor { try await fixture.queries.deadlines(dueBy: .distantFuture, limit: 10).contains { $0.ticketId == after } })

            let all = try await fixture.queries.activeTickets(lastEventBefore: head + 1, after: nil, limit: 10)
            #expect(all.map(\.ticketId) == before.sorted { $0.uuidString.lowercased() < $1.uuidString.lowercased() })
            #expect(all.allSatisfy { $0.deadline != nil })
            let first = try await fixture.queries.activeTickets(lastEventBefore: head + 1, after: nil, limit: 2)
            let rest = try await fixture.queries.activeTickets(lastEventBefore: head + 1, after: first.last?.ticketId, limit: 2)
            #expect((first + rest).map(\.ticketId) == all.map(\.ticketId))
            #expect(rest.count == 1)
        }
    }

    @Test("a deadline that passed while no watcher ran is handled once at start")
    func passedWhileDown() async throws {
        try await withWatcherFixture { fixture in
            let id = try await fixture.openP1(at: Date().addingTimeInterval(-20 * 60))
            // Let the projection see the ticket before any watcher runs.
            #expect(try await waitFor { try await fixture.queries.deadlines(dueBy: .distantFuture, limit: 10).contains { $0.ticketId == id } })
            let first = Task { [w = fixture.watcher()] in try await w.run() }
            #expect(try await waitFor { try await fixture.events(id).filter { $0.type == "SLABreached" }.count == 2 })
            try await Task.sleep(for: .milliseconds(500))
            first.cancel()
            _ = await first.result
            let second = Task { [w = fixture.watcher()] in try await w.run() }
            try await Task.sleep(for: .seconds(1))
            second.cancel()
            _ = await second.result
            let events = try await fixture.events(id)
            #expect(events.filter { $0.type == "SLABreached" }.count == 2)
            #expect(events.filter { $0.type == "TicketEscalated" }.count == 1)
        }
    }

    @Test("an expired lease returns the ticket to its queue at the lease's end; a hold ends at its until-time")
    func leaseAndHold() async throws {
        try await withWatcherFixture { fixture in
            let now = Date()
            let leased = try await fixture.openP1(at: now)
            let held = try await fixture.openP1(at: now)
            let expiresAt = now.addingTimeInterval(2)
            _ = try await fixture.commands.execute(.lease(until: expiresAt), on: leased, by: Actor(rawValue: "vendor:northwind")!, at: now)
            _ = try await fixture.commands.execute(.accept, on: held, by: Actor(rawValue: "vendor:northwind")!, at: now)
            let until = now.addingTimeInterval(2.5)
            _ = try await fixture.commands.execute(.hold(.awaitingCustomer, until: until), on: held, by: Actor(rawValue: "vendor:northwind")!, at: now)
            let watching = Task { [w = fixture.watcher()] in try await w.run() }
            defer { watching.cancel() }
            let expiryYardstick = fixture.yardstick(at: expiresAt, reading: leased)
            let holdYardstick = fixture.yardstick(at: until, reading: held)

            #expect(try await waitFor { try await fixture.events(leased).contains { $0.type == "LeaseExpired" } })
            let expiry = try #require(try await fixture.events(leased).first { $0.type == "LeaseExpired" })
            #expect(expiry.recordedAt >= expiresAt)
            let expiryTiming = try await Self.timing(expiry, deadline: expiresAt, yardstick: expiryYardstick)
            #expect(expiryTiming.onTime, "\(expiryTiming)")
            let ticket = try #require(TicketDecider.fold(try await fixture.events(leased).map(TicketStore.decode)))
            #expect(ticket.lease == nil)
            #expect(ticket.status == .queued)

            #expect(try await waitFor { try await fixture.events(held).contains { $0.type == "TicketResumed" } })
            let resumed = try #require(try await fixture.events(held).first { $0.type == "TicketResumed" })
            #expect(resumed.actor == "system")
            #expect(resumed.recordedAt >= until)
            let holdTiming = try await Self.timing(resumed, deadline: until, yardstick: holdYardstick)
            #expect(holdTiming.onTime, "\(holdTiming)")
        }
    }

    @Test("a customer SLA shortened while a ticket waits brings its breach forward: recorded at the new due instant, though the ticket had no event since")
    func shortenedCustomerSLA() async throws {
        try await shortenCustomerSLA(projectionLags: false)
    }

    @Test("a shortened customer SLA reaches a ticket the projection had not written yet when the watcher learnt of the change")
    func shortenedCustomerSLAWhileProjectionLags() async throws {
        try await shortenCustomerSLA(projectionLags: true)
    }

    /// Opens a P1 ticket, then shortens the customer SLA's P1 first response to 1 minute, due
    /// 15 s later, and requires the breach at that instant. With `projectionLags`, the
    /// tickets projection writes nothing (a lock on `rm_tickets` holds it) from before the
    /// ticket is opened until the watcher has seen the change.
    func shortenCustomerSLA(projectionLags: Bool) async throws {
        try await withWatcherFixture { fixture in
            // P1: first response 15 minutes for the customer and for Northwind. Opened so that
            // a first response of 1 minute falls due 15 s from now: well after the change
            // below, which the watcher takes up within a second.
            let due = Date(timeIntervalSinceReferenceDate: (Date().timeIntervalSinceReferenceDate + 15).rounded(.up))
            // The policy to come: a P1 first response within 1 minute, no warnings.
            var set = try AgreementsFile.load(contentsOf: exampleAgreements)
            set.agreements.removeAll { $0.id == "service-desk-ola" }
            set.customerSLA.targets[.p1] = ServiceTargets(firstResponse: .calendar(minutes: 1), resolution: .calendar(hours: 4))
            set.customerSLA.warningThresholds = []
            let catalog = AgreementCatalog(store: fixture.db.eventStore)
            // While the projection lags, nothing it announces wakes the watcher: its poll does.
            // The poll finds nothing due (the read model's deadline is minutes away), so only
            // the check after the change can find the breach in time.
            let watching = Task { [w = fixture.watcher(pollInterval: projectionLags ? .milliseconds(300) : .seconds(3600))] in try await w.run() }
            defer { watching.cancel() }
            let id: UUID
            if projectionLags {
                id = try await fixture.db.client.withTransaction { holding in
                    try await holding.execute("LOCK TABLE rm_tickets IN EXCLUSIVE MODE")
                    let id = try await fixture.openP1(at: due.addingTimeInterval(-60))
                    _ = try await catalog.apply(set, actor: "admin:root", at: Date())
                    // Longer than the watcher takes to look at the agreements again.
                    try await Task.sleep(for: .seconds(2))
                    return id
                }
            } else {
                id = try await fixture.openP1(at: due.addingTimeInterval(-60))
                // The read model's deadline: the first warning of the 15 minutes, minutes away.
                #expect(try await waitFor {
                    try await fixture.queries.deadlines(dueBy: .distantFuture, limit: 5).contains { $0.ticketId == id && $0.deadline > due.addingTimeInterval(60) }
                })
                _ = try await catalog.apply(set, actor: "admin:root", at: Date())
            }
            #expect(Date() < due.addingTimeInterval(-5), "the test's set-up took too long for it to measure anything")
            let yardstick = fixture.yardstick(at: due, reading: id)

            #expect(try await waitFor { try await fixture.events(id).contains { $0.type == "SLABreached" } })
            let events = try await fixture.events(id)
            let breach = try #require(events.first { $0.type == "SLABreached" })
            let recorded = try breach.decode(SLABreached.self)
            #expect(recorded.clockId == "customer/first-response")
            #expect(recorded.dueAt == due)
            let timing = try await Self.timing(breach, deadline: due, yardstick: yardstick)
            #expect(timing.onTime, "\(timing)")
            // Northwind's clock is its agreement's, unchanged: nothing is due on it yet.
            #expect(events.map(\.type) == ["TicketOpened", "TicketRouted", "SLABreached"])
        }
    }

    @Test("a deadline the read model puts before anything is due is looked at again when something is, and does not hide the tickets after it")
    func readModelDeadlineTooEarly() async throws {
        try await withWatcherFixture { fixture in
            // The read model computes a ticket's next deadline with the agreements as of its
            // last event; after the customer SLA is lengthened, the watcher (with the agreements
            // in force) finds nothing due at it. Here the rows are made so directly.
            let now = Date()
            var quiet: [UUID] = []
            for _ in 0..<6 { quiet.append(try await fixture.openP1(at: now)) }
            let leased = try await fixture.openP1(at: now)
            // On a whole second, which the log and the read model keep exactly; far enough ahead
            // that the watcher's first pass over the seven tickets, a few round trips each, ends
            // before it. With the whole suite on two cores, 4 s was once not enough: the expiry
            // was then decided 4 s late, which says nothing about its timer.
            let expiresAt = Date(timeIntervalSinceReferenceDate: (Date().timeIntervalSinceReferenceDate + 8).rounded(.up))
            _ = try await fixture.commands.execute(.lease(until: expiresAt), on: leased, by: Actor(rawValue: "vendor:northwind")!, at: Date())
            #expect(try await waitFor {
                try await fixture.queries.deadlines(dueBy: .distantFuture, limit: 20).contains { $0.ticketId == leased && $0.deadline == expiresAt }
            })
            // Nothing is due on any of them before the lease ends (their first SLA alarms are
            // minutes away), yet the read model says every deadline has passed, the leased
            // ticket's last: more quiet tickets before it than the watcher reads at once.
            try await fixture.db.client.execute("UPDATE rm_tickets SET next_deadline_at = now() - interval '1 hour' WHERE ticket_id = ANY(\(quiet))")
            try await fixture.db.client.execute("UPDATE rm_tickets SET next_deadline_at = now() - interval '1 minute' WHERE ticket_id = \(leased)")

            var watcher = fixture.watcher()
            watcher.pageSize = 4
            let watching = Task { [watcher] in try await watcher.run() }
            defer { watching.cancel() }
            let yardstick = fixture.yardstick(at: expiresAt, reading: leased)

            #expect(try await waitFor { try await fixture.events(leased).contains { $0.type == "LeaseExpired" } })
            let expiry = try #require(try await fixture.events(leased).first { $0.type == "LeaseExpired" })
            #expect(expiry.recordedAt >= expiresAt)
            let timing = try await Self.timing(expiry, deadline: expiresAt, yardstick: yardstick)
            #expect(timing.onTime, "\(timing)")
            // The quiet tickets were looked at, and nothing was recorded on them.
            for id in quiet { #expect(try await fixture.events(id).map(\.type) == ["TicketOpened", "TicketRouted"]) }
        }
    }
}
