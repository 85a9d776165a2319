import Foundation
import PropertyBased
import Testing
@testable import BatonDomain

@Suite("SLA clocks")
struct SLAClockTests {
    func clock(_ id: String, in s: Stream, asOf: Date, set: AgreementSet = agreementSet) -> SLAClock? {
        SLAClocks.compute(events: s.events, agreements: set, asOf: asOf).first { $0.id == id }
    }

    @Test("P2 opened Friday 16:30, 8 business hours, Mon–Fri 08:00–17:00 Chicago, is due Monday 15:30")
    func workedExampleFridayAfternoon() throws {
        let s = Stream.opened(priority: .p2, at: at(2026, 3, 6, 16, 30))
        let c = try #require(clock("customer/resolution", in: s, asOf: at(2026, 3, 6, 17)))
        #expect(c.dueAt == at(2026, 3, 9, 15, 30))
        #expect(c.status == .running)
        #expect(c.elapsed == .minutes(30))
        #expect(c.alarms.map(\.at) == [at(2026, 3, 9, 11, 30), at(2026, 3, 9, 13, 30), at(2026, 3, 9, 15, 30)])
    }

    @Test("Ticket on hold awaiting customer for 2 business hours is due 2 business hours later")
    func workedExampleHold() throws {
        var s = Stream.opened(priority: .p2, at: at(2026, 3, 10, 9))
        try s.run(.route(RoutingDecision(assignment: serviceDeskQueue, considerations: []), cause: .opened), at: at(2026, 3, 10, 9))
        try s.run(.accept, at: at(2026, 3, 10, 9, 10))
        try s.run(.hold(.awaitingCustomer), at: at(2026, 3, 10, 10))
        let paused = try #require(clock("customer/resolution", in: s, asOf: at(2026, 3, 10, 11)))
        #expect(paused.status == .paused)
        #expect(paused.dueAt == nil)
        #expect(paused.projectedDueAt == at(2026, 3, 11, 9))  // 7bh left from Tue 11:00: 6h Tue, 1h Wed
        try s.run(.resume, at: at(2026, 3, 10, 12))
        let c = try #require(clock("customer/resolution", in: s, asOf: at(2026, 3, 10, 12)))
        // Without the hold: Tue 09:00 + 8bh = Tue 17:00. With 2bh on hold: Wed 10:00.
        #expect(c.dueAt == at(2026, 3, 11, 10))
        #expect(c.elapsed == .hours(1))
    }

    @Test("Priority raised P3→P1 at 10:00 after 3h open: a P1 4h target from creation is due at creation + 4h")
    func workedExamplePriorityChange() throws {
        var s = Stream.opened(priority: .p3, at: at(2026, 3, 10, 7))
        try s.run(.changePriority(.p1), at: at(2026, 3, 10, 10))
        let c = try #require(clock("customer/resolution", in: s, asOf: at(2026, 3, 10, 10)))
        #expect(c.priority == .p1)
        #expect(c.target == .calendar(hours: 4))
        #expect(c.dueAt == at(2026, 3, 10, 11))
    }

    @Test("Priority change keeps the paused time")
    func priorityChangeKeepsPauses() throws {
        var s = Stream.opened(priority: .p3, at: at(2026, 3, 10, 7))
        try s.run(.route(RoutingDecision(assignment: serviceDeskQueue, considerations: []), cause: .opened), at: at(2026, 3, 10, 7))
        try s.run(.hold(.awaitingCustomer), at: at(2026, 3, 10, 8))
        try s.run(.resume, at: at(2026, 3, 10, 9))
        try s.run(.changePriority(.p1), at: at(2026, 3, 10, 10))
        #expect(clock("customer/resolution", in: s, asOf: at(2026, 3, 10, 10))?.dueAt == at(2026, 3, 10, 12))
    }

    @Test("Priority lowered P3→P2 while on hold: the P2 target counts from creation and the hold stays paused")
    func priorityChangeWhilePaused() throws {
        var s = Stream.opened(priority: .p3, at: at(2026, 3, 10, 9))
        try s.run(.route(RoutingDecision(assignment: serviceDeskQueue, considerations: []), cause: .opened), at: at(2026, 3, 10, 9))
        try s.run(.hold(.awaitingCustomer), at: at(2026, 3, 10, 10))
        try s.run(.changePriority(.p2), at: at(2026, 3, 10, 11))
        let paused = try #require(clock("customer/resolution", in: s, asOf: at(2026, 3, 10, 11)))
        #expect(paused.status == .paused)
        #expect(paused.target == .business(hours: 8))
        #expect(paused.dueAt == nil)
        #expect(paused.projectedDueAt == at(2026, 3, 11, 9))  // 7bh left from Tue 11:00
        try s.run(.resume, at: at(2026, 3, 10, 12))
        let c = try #require(clock("customer/resolution", in: s, asOf: at(2026, 3, 10, 12)))
        #expect(c.dueAt == at(2026, 3, 11, 10))  // 1bh before the hold, 7bh from Tue 12:00: 5h Tue + 2h Wed
        #expect(c.elapsed == .hours(1))
    }

    @Test("Priority raised while on hold past the new target: the clock is breached although paused")
    func priorityRaisedWhilePausedBreaches() throws {
        var s = Stream.opened(priority: .p3, at: at(2026, 3, 10, 9))   // customer P3 first response: 2bh
        try s.run(.route(RoutingDecision(assignment: serviceDeskQueue, considerations: []), cause: .opened), at: at(2026, 3, 10, 9))
        try s.run(.hold(.awaitingCustomer), at: at(2026, 3, 10, 10))
        try s.run(.changePriority(.p1), at: at(2026, 3, 10, 10, 30))      // P1 first response: 15m
        let c = try #require(clock("customer/first-response", in: s, asOf: at(2026, 3, 10, 10, 30)))
        #expect(c.dueAt == at(2026, 3, 10, 9, 15))
        #expect(c.status == .breached)
    }

    @Test("Resolved while on hold, then reopened: the hold and the resolved span are both paused")
    func resolveWhileOnHoldThenReopen() throws {
        var s = Stream.opened(priority: .p2, at: at(2026, 3, 10, 9))   // customer P2 resolution: 8bh
        try s.run(.route(RoutingDecision(assignment: serviceDeskQueue, considerations: []), cause: .opened), at: at(2026, 3, 10, 9))
        try s.run(.accept, at: at(2026, 3, 10, 9, 5))
        try s.run(.hold(.awaitingCustomer), at: at(2026, 3, 10, 10))
        try s.run(.resolve(code: "fixed", note: ""), at: at(2026, 3, 10, 11))
        let resolved = try #require(clock("customer/resolution", in: s, asOf: at(2026, 3, 10, 12)))
        #expect(resolved.status == .met)
        #expect(resolved.elapsed == .hours(1))
        try s.run(.reopen(reason: "still broken"), at: at(2026, 3, 10, 13))
        let c = try #require(clock("customer/resolution", in: s, asOf: at(2026, 3, 10, 14)))
        #expect(c.status == .running)
        #expect(c.elapsed == .hours(2))
        #expect(c.dueAt == at(2026, 3, 11, 11))  // 7bh from Tue 13:00: 4h Tue + 3h Wed
        #expect(c.pauses.map(\.reason) == [.hold(.awaitingCustomer), .resolved])
    }

    @Test("A 4h calendar target across the spring-forward night is four real hours")
    func calendarTargetAcrossSpringForward() throws {
        // Northwind (24x7) P1 resolution 4h; opened Saturday 23:00 CST, the clock skips 02:00–03:00.
        var s = Stream.opened(priority: .p1, at: at(2026, 3, 7, 23))
        try s.run(.route(RoutingDecision(assignment: northwindQueue, considerations: []), cause: .opened), by: .system, at: at(2026, 3, 7, 23))
        let c = try #require(clock("assignment-1/resolution", in: s, asOf: at(2026, 3, 8, 1)))
        #expect(c.dueAt == at(2026, 3, 8, 4))
        #expect(c.dueAt == at(2026, 3, 7, 23).addingTimeInterval(.hours(4)))
    }

    @Test("Met exactly at the due instant is met, one second later is breached")
    func dueInstantBoundary() throws {
        for (offset, expected) in [(0.0, SLAClock.Status.met), (1.0, .breached)] {
            var s = Stream.queued(at: at(2026, 3, 10, 9))  // Northwind P2 first response: 30m
            try s.run(.accept, by: northwind, at: at(2026, 3, 10, 9, 30).addingTimeInterval(offset))
            let c = try #require(clock("assignment-1/first-response", in: s, asOf: at(2026, 3, 10, 10)))
            #expect(c.status == expected)
        }
    }

    @Test("Priority raised after the first response: the met first-response clock keeps its old target")
    func priorityChangeAfterFirstResponse() throws {
        var s = Stream.queued(at: at(2026, 3, 10, 9))                       // Northwind P2: 30m first response, 8h resolution
        try s.run(.accept, by: northwind, at: at(2026, 3, 10, 9, 25))
        try s.run(.changePriority(.p1), at: at(2026, 3, 10, 10))             // P1: 15m first response, 4h resolution
        let fr = try #require(clock("assignment-1/first-response", in: s, asOf: at(2026, 3, 10, 10)))
        #expect(fr.status == .met)
        #expect(fr.priority == .p2)
        let res = try #require(clock("assignment-1/resolution", in: s, asOf: at(2026, 3, 10, 10)))
        #expect(res.priority == .p1)
        #expect(res.dueAt == at(2026, 3, 10, 13))
    }

    @Test("A hold reason the agreement does not list does not pause its clock")
    func holdReasonsPerAgreement() throws {
        var s = Stream.queued(at: at(2026, 3, 10, 9))
        try s.run(.accept, by: northwind, at: at(2026, 3, 10, 9, 5))
        try s.run(.hold(.scheduled), by: northwind, at: at(2026, 3, 10, 10))
        let asOf = at(2026, 3, 10, 11)
        // The customer SLA pauses only for awaiting-customer; Northwind also not for scheduled.
        #expect(clock("customer/resolution", in: s, asOf: asOf)?.status == .running)
        #expect(clock("assignment-1/resolution", in: s, asOf: asOf)?.status == .running)
        var t = Stream.queued(at: at(2026, 3, 10, 9))
        try t.run(.accept, by: northwind, at: at(2026, 3, 10, 9, 5))
        try t.run(.hold(.awaitingChange), by: northwind, at: at(2026, 3, 10, 10))
        #expect(clock("customer/resolution", in: t, asOf: asOf)?.status == .running)
        #expect(clock("assignment-1/resolution", in: t, asOf: asOf)?.status == .paused)
    }

    @Test("Reassignment ends the vendor's clock and starts the new queue's; the customer SLA runs on")
    func reassignmentClocks() throws {
        var s = Stream.queued(at: at(2026, 3, 10, 9))   // northwind, P2: 30m first response, 8h resolution
        try s.run(.accept, by: northwind, at: at(2026, 3, 10, 9, 20))
        try s.run(.reassign(serviceDeskQueue, reason: "needs on-site"), at: at(2026, 3, 10, 11))
        let clocks = SLAClocks.compute(events: s.events, agreements: agreementSet, asOf: at(2026, 3, 10, 12))
        #expect(clocks.map(\.id) == ["customer/first-response", "customer/resolution", "assignment-1/first-response",
                                     "assignment-1/resolution", "assignment-2/first-response", "assignment-2/resolution"])
        let byId = Dictionary(uniqueKeysWithValues: clocks.map { ($0.id, $0) })
        #expect(byId["assignment-1/first-response"]?.status == .met)
        #expect(byId["assignment-1/resolution"]?.status == .handedOver)
        #expect(byId["assignment-1/resolution"]?.elapsed == .hours(2))
        #expect(byId["assignment-2/resolution"]?.startedAt == at(2026, 3, 10, 11))
        #expect(byId["assignment-2/resolution"]?.agreementId == "service-desk-ola")
        #expect(byId["customer/resolution"]?.startedAt == at(2026, 3, 10, 9))
        #expect(byId["customer/resolution"]?.status == .running)
    }

    @Test("A vendor that holds a ticket past its due instant has breached, even after handing it over")
    func vendorBreach() throws {
        var s = Stream.queued(at: at(2026, 3, 10, 9))
        try s.run(.reject(reason: "not ours"), by: northwind, at: at(2026, 3, 10, 9, 45))
        let fr = try #require(clock("assignment-1/first-response", in: s, asOf: at(2026, 3, 10, 10)))
        #expect(fr.status == .breached)
        #expect(fr.dueAt == at(2026, 3, 10, 9, 30))
    }

    @Test("A running clock past its due instant is breached; recorded alarms are not offered again")
    func breachAndAlarms() throws {
        var s = Stream.queued(at: at(2026, 3, 10, 9))
        let before = try #require(clock("assignment-1/first-response", in: s, asOf: at(2026, 3, 10, 9, 10)))
        #expect(before.nextUnrecordedAlarm?.threshold == 0.5)
        #expect(before.nextUnrecordedAlarm?.at == at(2026, 3, 10, 9, 15))
        try s.run(.recordSLAWarning(clockId: "assignment-1/first-response", threshold: 0.5, dueAt: before.dueAt!), by: .system, at: at(2026, 3, 10, 9, 15))
        let after = try #require(clock("assignment-1/first-response", in: s, asOf: at(2026, 3, 10, 9, 31)))
        #expect(after.nextUnrecordedAlarm?.threshold == 0.75)
        #expect(after.status == .breached)
    }

    @Test("Resolution stops the clocks as met; reopening resumes them with the resolved span paused")
    func resolveAndReopen() throws {
        var s = Stream.queued(at: at(2026, 3, 10, 9))
        try s.run(.accept, by: northwind, at: at(2026, 3, 10, 9, 10))
        try s.run(.resolve(code: "fixed", note: ""), by: northwind, at: at(2026, 3, 10, 10))
        #expect(clock("assignment-1/resolution", in: s, asOf: at(2026, 3, 10, 12))?.status == .met)
        #expect(clock("customer/resolution", in: s, asOf: at(2026, 3, 10, 12))?.status == .met)
        try s.run(.reopen(reason: "again"), at: at(2026, 3, 10, 13))
        let c = try #require(clock("customer/resolution", in: s, asOf: at(2026, 3, 10, 13)))
        #expect(c.status == .running)
        #expect(c.elapsed == .hours(1))
        #expect(c.dueAt == at(2026, 3, 11, 11))   // 8bh: 1h used, 7h from Tue 13:00 -> 4h Tue + 3h Wed
        #expect(clock("customer/first-response", in: s, asOf: at(2026, 3, 10, 13))?.status == .met)
    }

    @Test("Cancelling stops every clock as cancelled")
    func cancelClocks() throws {
        var s = Stream.queued(at: at(2026, 3, 10, 9))
        try s.run(.cancel(reason: "dup"), at: at(2026, 3, 10, 9, 5))
        let clocks = SLAClocks.compute(events: s.events, agreements: agreementSet, asOf: at(2026, 3, 11, 9))
        #expect(clocks.allSatisfy { $0.status == .cancelled })
    }

    @Test("Events after asOf are ignored; unknown agreement versions are reported")
    func asOfAndUnknown() throws {
        var s = Stream.opened(at: at(2026, 3, 10, 9))
        try s.run(.route(RoutingDecision(assignment: QueueAssignment(queue: "q", agreementId: "gone", agreementVersion: 3), considerations: []),
                         cause: .opened), at: at(2026, 3, 10, 10))
        let early = SLAClocks.computeWithDiagnostics(events: s.events, agreements: agreementSet, asOf: at(2026, 3, 10, 9, 30))
        #expect(early.unknownAgreements.isEmpty)
        let late = SLAClocks.computeWithDiagnostics(events: s.events, agreements: agreementSet, asOf: at(2026, 3, 10, 11))
        #expect(late.unknownAgreements.map(\.agreementId) == ["gone"])
        #expect(late.clocks.count == 2)
    }

    // MARK: Properties

    static let base = at(2026, 1, 1, 0).timeIntervalSince1970
    static let calendars = [officeCalendar, officeHours(berlin), allHours]

    @Test("Pausing never makes a due instant earlier")
    func pausingNeverEarlier() async {
        let pauseGen = Gen.int(in: 0...(20 * 86_400)).array(of: 0...4)
        await propertyCheck(count: 300, input: Gen.int(in: 0...(700 * 86_400)), Gen.int(in: 60...(10 * 86_400)), pauseGen, Gen.int(in: 0...2)) {
            startOffset, target, raw, i in
            let cal = Self.calendars[i]
            let start = Date(timeIntervalSince1970: Self.base + Double(startOffset))
            // Turn raw offsets into sorted, disjoint, closed pauses after start.
            let points = raw.sorted()
            var pauses: [SLAClock.Pause] = []
            var k = 0
            while k + 1 < points.count {
                pauses.append(.init(from: start + Double(points[k]), to: start + Double(points[k + 1]), reason: .hold(.awaitingCustomer)))
                k += 2
            }
            let plain = SLAClock.instant(consuming: Double(target), start: start, pauses: [], calendar: cal)!
            let paused = SLAClock.instant(consuming: Double(target), start: start, pauses: pauses, calendar: cal)!
            #expect(paused >= plain)
            // And each added pause only pushes the due instant further.
            if !pauses.isEmpty {
                let fewer = SLAClock.instant(consuming: Double(target), start: start, pauses: Array(pauses.dropLast()), calendar: cal)!
                #expect(paused >= fewer)
            }
            // Running time up to the due instant is exactly the target.
            #expect(SLAClock.running(start: start, end: paused, pauses: pauses, calendar: cal) == Double(target))
        }
    }
}

@Suite("SLA watcher and re-routing helpers")
struct WatcherHelperTests {
    @Test("The next alarm is the earliest unrecorded warning or breach of a running clock")
    func nextAlarm() throws {
        var s = Stream.queued(at: at(2026, 3, 10, 9))   // northwind P2: 30m first response (24x7)
        let clocks = SLAClocks.compute(events: s.events, agreements: agreementSet, asOf: at(2026, 3, 10, 9, 1))
        let next = try #require(SLAClocks.nextAlarm(in: clocks))
        #expect(next.clock.kind == .firstResponse)  // customer and vendor both warn at 09:15; the first listed wins
        #expect(next.alarm.at == at(2026, 3, 10, 9, 15))
        try s.run(.accept, by: northwind, at: at(2026, 3, 10, 9, 5))
        let later = SLAClocks.compute(events: s.events, agreements: agreementSet, asOf: at(2026, 3, 10, 9, 6))
        #expect(SLAClocks.nextAlarm(in: later)?.clock.kind == .resolution)
    }

    @Test("Re-routing is due when unassigned, after a rejection, or after too many expired leases")
    func reroutingCause() throws {
        var s = Stream.opened()
        #expect(agreementSet.reroutingCause(for: s.state!) == .opened)
        try s.run(.route(RoutingDecision(assignment: northwindQueue, considerations: []), cause: .opened), at: t0)
        #expect(agreementSet.reroutingCause(for: s.state!) == nil)
        for k in 0..<2 {
            try s.run(.lease(until: t0 + Double(k * 1000 + 600)), by: northwind, at: t0 + Double(k * 1000))
            try s.run(.expireLease, by: .system, at: t0 + Double(k * 1000 + 600))
        }
        #expect(agreementSet.reroutingCause(for: s.state!) == .leaseExpired)
        var r = Stream.queued()
        try r.run(.reject(reason: "no"), by: northwind, at: t0)
        #expect(agreementSet.reroutingCause(for: r.state!) == .rejected)
    }

    @Test("Agreements encode to the same bytes every time (sets are sorted)")
    func stableEncoding() throws {
        let a = AgreementRegistered(agreement: northwindUC)
        let first = try TicketEventlessEncoding.encode(a)
        var shuffled = northwindUC
        shuffled.coverage.sites = Set(northwindUC.coverage.sites.reversed())
        #expect(try TicketEventlessEncoding.encode(AgreementRegistered(agreement: shuffled)) == first)
        #expect(String(decoding: first, as: UTF8.self).contains(#""sites":["city-hall","library-main"]"#))
    }
}

enum TicketEventlessEncoding {
    static func encode(_ e: some DomainEvent) throws -> Data { try EventJSON.encoder.encode(e) }
}
