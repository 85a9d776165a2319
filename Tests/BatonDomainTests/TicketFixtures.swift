import Foundation
@testable import BatonDomain

let ticketId = UUID(uuidString: "6F0C1E2A-5B4D-4C3E-9A8B-7D6E5F4A3B2C")!
let t0 = at(2026, 3, 10, 9)  // a Tuesday, 09:00 Chicago
let agent = Actor.agent("mgarcia")
let northwind = Actor.vendor("northwind")
let northwindQueue = QueueAssignment(queue: "northwind-l1", agreementId: "northwind-helpdesk", agreementVersion: 1, vendorId: "northwind")
let serviceDeskQueue = QueueAssignment(queue: "service-desk", agreementId: "service-desk-ola", agreementVersion: 1)

func details(category: TicketCategory = .helpDesk, impact: Impact = .medium, urgency: Urgency = .high,
             site: String? = "city-hall", subcategory: String? = nil) -> TicketDetails {
    TicketDetails(source: "portal", requester: "jdoe@riverside.gov", site: site, department: "parks", category: category,
                  subcategory: subcategory, impact: impact, urgency: urgency, subject: "Cannot log in to the permit system",
                  description: "Password reset did not help.")
}

/// A stream under test: applies commands through the decider, keeping events and state.
struct Stream {
    var decider = TicketDecider()
    var events: [Stamped<TicketEvent>] = []
    var state: Ticket? = nil

    @discardableResult
    mutating func run(_ command: TicketCommand, by actor: Actor = agent, at now: Date) throws(TicketError) -> [Stamped<TicketEvent>] {
        let new = try decider.decide(command, state: state, by: actor, at: now)
        for e in new { state = TicketDecider.evolve(state, e) }
        events += new
        return new
    }

    static func opened(priority: Priority? = nil, details d: TicketDetails = details(), at: Date = t0) -> Stream {
        var s = Stream()
        try! s.run(.open(OpenTicket(ticketId: ticketId, number: "T-1042", details: d, priority: priority)), by: .ingest("portal"), at: at)
        return s
    }

    static func queued(at: Date = t0, placement: QueueAssignment = northwindQueue) -> Stream {
        var s = opened(at: at)
        try! s.run(.route(RoutingDecision(assignment: placement, considerations: []), cause: .opened), by: .system, at: at)
        return s
    }
}
