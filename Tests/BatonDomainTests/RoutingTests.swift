import Foundation
import Testing
@testable import BatonDomain

@Suite("Routing")
struct RoutingTests {
    let tuesdayMorning = at(2026, 3, 10, 10)
    let tuesdayNight = at(2026, 3, 10, 20)

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var ticket: Ticket
        var at: Date
        var load: RoutingLoad = .none
        var queue: String
        var agreement: String?
        var version: Int? = nil
        var skipped: [String: String] = [:]  // agreement id -> reason code
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "Help desk in business hours goes in-house (precedence 10 before 20)",
             ticket: ticket(), at: at(2026, 3, 10, 10), queue: "service-desk", agreement: "service-desk-ola",
             skipped: ["prairie-wan-lan": "categoryNotCovered"]),
        Case(name: "Help desk at night goes to the 24x7 vendor; the in-house desk is outside its hours",
             ticket: ticket(), at: at(2026, 3, 10, 20), queue: "northwind-l1", agreement: "northwind-helpdesk",
             skipped: ["service-desk-ola": "outsideCoverageHours"]),
        Case(name: "In-house desk at its open cap: the vendor takes it",
             ticket: ticket(), at: at(2026, 3, 10, 10), load: RoutingLoad(openTickets: ["service-desk-ola": 120]),
             queue: "northwind-l1", agreement: "northwind-helpdesk", skipped: ["service-desk-ola": "atOpenCap"]),
        Case(name: "Vendor at its monthly cap at night: default in-house queue",
             ticket: ticket(), at: at(2026, 3, 10, 20), load: RoutingLoad(newTicketsThisMonth: ["northwind-helpdesk": 1800]),
             queue: "service-desk", agreement: nil,
             skipped: ["northwind-helpdesk": "atMonthlyCap", "service-desk-ola": "outsideCoverageHours"]),
        Case(name: "After the vendor rejected the ticket it is not offered to it again",
             ticket: ticket(rejections: ["northwind-helpdesk": 1]), at: at(2026, 3, 10, 20), queue: "service-desk", agreement: nil,
             skipped: ["northwind-helpdesk": "rejectedTooOften"]),
        Case(name: "After two expired leases the vendor is excluded",
             ticket: ticket(expiries: ["northwind-helpdesk": 2]), at: at(2026, 3, 10, 20), queue: "service-desk", agreement: nil,
             skipped: ["northwind-helpdesk": "leaseExpiredTooOften"]),
        Case(name: "One expired lease (limit 2) does not exclude the vendor",
             ticket: ticket(expiries: ["northwind-helpdesk": 1]), at: at(2026, 3, 10, 20), queue: "northwind-l1", agreement: "northwind-helpdesk"),
        Case(name: "A site the vendor does not cover stays in-house / default",
             ticket: ticket(details(site: "water-plant")), at: at(2026, 3, 10, 20), queue: "service-desk", agreement: nil,
             skipped: ["northwind-helpdesk": "siteNotCovered"]),
        Case(name: "WAN/LAN in June 2026 uses Prairie version 1",
             ticket: ticket(details(category: .wanLan)), at: at(2026, 6, 15, 10), queue: "prairie-network", agreement: "prairie-wan-lan",
             version: 1, skipped: ["prairie-wan-lan": "notYetInForce"]),
        Case(name: "WAN/LAN in July 2026 uses Prairie version 2; version 1 has ended",
             ticket: ticket(details(category: .wanLan)), at: at(2026, 7, 15, 10), queue: "prairie-network", agreement: "prairie-wan-lan",
             version: 2, skipped: ["prairie-wan-lan": "noLongerInForce"]),
        Case(name: "WAN/LAN before any Prairie terms: default queue",
             ticket: ticket(details(category: .wanLan)), at: at(2025, 6, 1, 10), queue: "service-desk", agreement: nil,
             skipped: ["prairie-wan-lan": "notYetInForce"]),
        Case(name: "The vendor's least loaded queue is used",
             ticket: ticket(), at: at(2026, 3, 10, 20), load: RoutingLoad(queueDepth: ["northwind-l1": 9, "northwind-desktop": 3]),
             queue: "northwind-desktop", agreement: "northwind-helpdesk"),
    ]

    @Test("Routing table", arguments: cases)
    func table(_ c: Case) {
        let d = route(c.ticket, agreements: agreementSet.agreements, load: c.load, at: c.at, defaultQueue: "service-desk")
        #expect(d.assignment.queue == c.queue)
        #expect(d.assignment.agreementId == c.agreement)
        if let v = c.version { #expect(d.assignment.agreementVersion == v) }
        #expect(d.considerations.count == agreementSet.agreements.count)
        for (id, code) in c.skipped {
            #expect(d.considerations.contains { $0.agreementId == id && $0.outcome == .skipped && $0.reason.code == code },
                    "\(id) should be skipped with \(code): \(d.traceLines.map(\.explanation))")
        }
    }

    @Test("The trace explains every agreement in auditor English")
    func traceWording() {
        let d = route(ticket(), agreements: agreementSet.agreements, load: RoutingLoad(openTickets: ["service-desk-ola": 4, "northwind-helpdesk": 17]),
                      at: tuesdayMorning, defaultQueue: "service-desk")
        #expect(d.traceLines.map(\.explanation) == [
            "Agreement service-desk-ola version 1 was chosen: it was in force, covered the ticket, could take it now and was under its caps; it ranked first of 2 eligible agreements (precedence 10, 4 open tickets).",
            "Agreement northwind-helpdesk version 1 was eligible but not chosen: its precedence 20 comes after service-desk-ola's 10.",
            "Agreement prairie-wan-lan version 1 was skipped because it does not cover the category help-desk.",
            "Agreement prairie-wan-lan version 2 was skipped because it was not yet in force: its terms start at 2026-07-01T05:00:00Z.",
        ])
        #expect(d.summary.hasPrefix("Routed to service-desk: Agreement service-desk-ola version 1 was chosen"))
        #expect(d.traceLines.map(\.outcome) == ["chosen", "passedOver", "skipped", "skipped"])
    }

    @Test("Equal precedence: lower load wins, then the id")
    func tieBreaks() {
        var a = northwindUC
        a.id = "a-vendor"
        a.vendorId = "a"
        var b = northwindUC
        b.id = "b-vendor"
        b.vendorId = "b"
        let t = ticket()
        let byLoad = route(t, agreements: [b, a], load: RoutingLoad(openTickets: ["a-vendor": 5, "b-vendor": 2]), at: tuesdayNight, defaultQueue: "x")
        #expect(byLoad.assignment.agreementId == "b-vendor")
        #expect(byLoad.considerations[1].explanation.contains("with equal precedence 20, it had 5 open tickets against b-vendor's 2"))
        let byId = route(t, agreements: [b, a], load: .none, at: tuesdayNight, defaultQueue: "x")
        #expect(byId.assignment.agreementId == "a-vendor")
        #expect(byId.considerations[1].explanation.contains("with equal precedence and load, a-vendor comes first by id"))
    }

    @Test("Two versions in force at once: the higher version wins, the lower is superseded")
    func superseded() {
        var v2 = northwindUC
        v2.version = 2
        let d = route(ticket(), agreements: [northwindUC, v2], load: .none, at: tuesdayNight, defaultQueue: "x")
        #expect(d.assignment.agreementVersion == 2)
        #expect(d.considerations.contains { $0.agreementVersion == 1 && $0.reason == .superseded(byVersion: 2) })
    }

    @Test("Priority coverage: a P5 is not covered by a P1–P3 agreement")
    func priorityCoverage() {
        var a = northwindUC
        a.coverage.priorities = [.p1, .p2, .p3]
        let d = route(ticket(priority: .p5), agreements: [a], load: .none, at: tuesdayNight, defaultQueue: "service-desk")
        #expect(d.assignment == QueueAssignment(queue: "service-desk"))
        #expect(d.considerations.first?.explanation == "Agreement northwind-helpdesk version 1 was skipped because it does not cover P5 tickets.")
        #expect(d.summary.hasPrefix("Routed to the default in-house queue service-desk"))
    }

    @Test("A routing decision becomes a TicketRouted event carrying its trace")
    func decisionBecomesEvent() throws {
        var s = Stream.opened()
        let d = agreementSet.route(s.state!, load: .none, at: tuesdayNight)
        try s.run(.route(d, cause: .opened), by: .system, at: tuesdayNight)
        guard case .routed(let e) = s.events.last?.event else { Issue.record("not routed"); return }
        #expect(e.trace == d.traceLines)
        #expect(e.summary == d.summary && e.summary.hasPrefix("Routed to northwind"))
        #expect(e.assignment.vendorId == "northwind")
        // A decision with no agreement chosen, and one placed by another system, keep their own sentences.
        for other in [
            RoutingDecision(assignment: QueueAssignment(queue: "service-desk"), considerations: d.considerations.filter { $0.outcome != .chosen }),
            RoutingDecision(assignment: d.assignment, considerations: d.considerations, placementReason: "imported"),
        ] {
            let routed = other.routed(cause: .opened)
            #expect(routed.summary == other.summary && routed.trace == other.traceLines && routed.assignment == other.assignment)
        }
    }
}
