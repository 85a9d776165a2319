import BatonDomain
import BatonServer
import Foundation

let ticketOpenedAt = Date(timeIntervalSince1970: 1_773_151_200)  // 2026-03-10 14:00 UTC

/// A new ticket's first events, as the domain decides them: opened from the portal, routed
/// to the service desk.
let serviceDesk = QueueAssignment(queue: "service-desk", agreementId: "service-desk-ola", agreementVersion: 1)
let northwindL1 = QueueAssignment(queue: "northwind-l1", agreementId: "northwind-helpdesk", agreementVersion: 1, vendorId: "northwind")

func firstEvents(ticketId: UUID, number: String, reference: String, placement: QueueAssignment = serviceDesk) throws -> [Stamped<TicketEvent>] {
    let decider = TicketDecider()
    let details = TicketDetails(
        source: "portal", externalReference: reference, requester: "jdoe@riverside.gov", site: "city-hall", department: "parks",
        category: .helpDesk, subcategory: nil, impact: .medium, urgency: .high,
        subject: "Cannot log in to the permit system", description: "Password reset did not help.")
    let open = try decider.decide(.open(OpenTicket(ticketId: ticketId, number: number, details: details)), state: nil, by: .ingest("portal"), at: ticketOpenedAt)
    let state = open.reduce(nil) { TicketDecider.evolve($0, $1) }
    let route = try decider.decide(.route(RoutingDecision(assignment: placement, considerations: []), cause: .opened), state: state, by: .system, at: ticketOpenedAt)
    return open + route
}

/// Records a new ticket (in the service desk queue unless told otherwise) and returns its id.
@discardableResult
func recordTicket(_ tickets: TicketStore, reference: String = UUID().uuidString, placement: QueueAssignment = serviceDesk) async throws -> UUID {
    let id = TicketStore.ticketId(source: "portal", externalReference: reference)
    let number = try await tickets.allocateNumber()
    _ = try await tickets.recordNewTicket(
        events: try firstEvents(ticketId: id, number: number, reference: reference, placement: placement))
    return id
}
