import Foundation

/// Everything an agreements file defines: the customer-facing SLA, the default in-house queue,
/// and the agreement versions.
public struct AgreementSet: Codable, Sendable, Hashable {
    /// The customer-facing SLA every ticket is measured against from creation.
    public var customerSLA: ServiceLevelTerms
    /// Where tickets go when no agreement can take them.
    public var defaultQueue: String
    /// Derives priority from impact × urgency.
    public var priorityMatrix: PriorityMatrix
    /// All agreement versions.
    public var agreements: [Agreement]

    /// Creates a set.
    public init(customerSLA: ServiceLevelTerms, defaultQueue: String, priorityMatrix: PriorityMatrix = .itil, agreements: [Agreement]) {
        self.customerSLA = customerSLA
        self.defaultQueue = defaultQueue
        self.priorityMatrix = priorityMatrix
        self.agreements = agreements
    }

    /// The version `version` of agreement `id`, if known.
    public func agreement(id: String, version: Int) -> Agreement? {
        agreements.first { $0.id == id && $0.version == version }
    }

    /// Routes a ticket with this set's agreements and default queue.
    public func route(_ ticket: Ticket, load: RoutingLoad, at instant: Date) -> RoutingDecision {
        BatonDomain.route(ticket, agreements: agreements, load: load, at: instant, defaultQueue: defaultQueue)
    }

    /// A ticket decider configured with this set's priority matrix.
    public var ticketDecider: TicketDecider { TicketDecider(configuration: .init(priorityMatrix: priorityMatrix)) }

    /// The command that routes `ticket` again, if it should be: after a rejection, or when
    /// its leases expired as often as its agreement allows. Nil when it stays where it is.
    public func rerouteCommand(for ticket: Ticket, load: RoutingLoad, at instant: Date) -> TicketCommand? {
        guard let cause = reroutingCause(for: ticket) else { return nil }
        return .route(route(ticket, load: load, at: instant), cause: cause)
    }

    /// The placement for moving a ticket into `queue` by hand or by a breach clause: under the
    /// latest version in force of the agreement that serves the queue, so the new assignment's
    /// clocks have terms; nil when no agreement serves it and it is not the default queue.
    public func placement(inQueue queue: String, at instant: Date) -> QueueAssignment? {
        let agreement = agreements.filter { $0.queues.contains(queue) && $0.isInForce(at: instant) }.max { $0.version < $1.version }
        guard agreement != nil || queue == defaultQueue else { return nil }
        return QueueAssignment(queue: queue, agreementId: agreement?.id, agreementVersion: agreement?.version, vendorId: agreement?.vendorId)
    }

    /// Why `ticket` should be (re-)routed now, or nil: it is unassigned (new or rejected), or
    /// its leases under the current agreement expired as often as that agreement allows.
    public func reroutingCause(for ticket: Ticket) -> RoutingCause? {
        guard ticket.isActive, ticket.status != .onHold else { return nil }
        guard let placement = ticket.assignment?.placement else {
            return ticket.rejections.isEmpty ? .opened : .rejected
        }
        guard let id = placement.agreementId, ticket.status == .queued,
            let a = agreement(id: id, version: placement.agreementVersion ?? 1)
        else { return nil }
        return (ticket.leaseExpiries[id] ?? 0) >= a.leasing.maxLeaseExpiries ? .leaseExpired : nil
    }

    /// Checks the rules that do not depend on the file format; every problem is reported, with
    /// paths such as `agreements[2].warningThresholds[0]`.
    public func validate() -> [ValidationProblem] {
        var problems = customerSLA.validate(at: "customerSLA")
        if defaultQueue.isEmpty { problems.append(.init(path: "defaultQueue", message: "must not be empty")) }
        var seen: [String: Int] = [:]
        for (i, a) in agreements.enumerated() {
            let key = "\(a.id)#\(a.version)"
            if let first = seen[key] {
                problems.append(.init(path: "agreements[\(i)].version",
                                      message: "agreement \(a.id) version \(a.version) is already defined at agreements[\(first)]"))
            } else {
                seen[key] = i
            }
            problems += a.validate(at: "agreements[\(i)]")
        }
        return problems
    }
}

/// A problem found while validating agreements: where, and what is wrong.
public struct ValidationProblem: Sendable, Hashable, CustomStringConvertible {
    /// Where, e.g. `agreements[2].targets.P1.resolution`.
    public var path: String
    /// What is wrong and how to fix it.
    public var message: String
    /// The 1-based line in the file, when known.
    public var line: Int?
    /// Creates a problem.
    public init(path: String, message: String, line: Int? = nil) { self.path = path; self.message = message; self.line = line }
    public var description: String {
        (path.isEmpty ? message : "\(path): \(message)") + (line.map { " (line \($0))" } ?? "")
    }
}

extension ServiceLevelTerms {
    /// Domain checks on clock terms.
    public func validate(at path: String) -> [ValidationProblem] {
        var p: [ValidationProblem] = []
        for (i, t) in warningThresholds.enumerated() where !(t > 0 && t < 1) {
            p.append(.init(path: "\(path).warningThresholds[\(i)]", message: "\(t) must be between 0 and 1 (e.g. 0.75 for 75%)"))
        }
        if targets.isEmpty { p.append(.init(path: "\(path).targets", message: "at least one priority needs targets")) }
        if calendar.weeklyHours.map({ w in Weekday.allCases.allSatisfy { w.openSeconds(on: $0) == 0 } }) ?? false {
            p.append(.init(path: "\(path).calendar", message: "the calendar is never open"))
        }
        return p
    }
}

extension Agreement {
    /// Domain checks on one agreement version.
    public func validate(at path: String) -> [ValidationProblem] {
        var p = serviceLevel.validate(at: path)
        func add(_ field: String, _ message: String) { p.append(.init(path: "\(path).\(field)", message: message)) }
        if id.isEmpty { add("id", "must not be empty") }
        if id.contains(where: { $0.isWhitespace }) { add("id", "\"\(id)\" must not contain spaces") }
        if version < 1 { add("version", "must be 1 or more") }
        if queues.isEmpty { add("queues", "at least one queue is needed") }
        if kind == .vendor && (vendorId ?? "").isEmpty { add("vendor", "a vendor agreement needs a vendor id") }
        if kind == .inHouse && vendorId != nil { add("vendor", "an in-house agreement has no vendor") }
        if let to = effectiveTo, to <= effectiveFrom { add("effectiveTo", "must be after effectiveFrom") }
        if let c = caps.maxOpenTickets, c < 1 { add("caps.maxOpenTickets", "must be 1 or more") }
        if let c = caps.maxNewTicketsPerMonth, c < 1 { add("caps.maxNewTicketsPerMonth", "must be 1 or more") }
        if leasing.leaseLength.basis != .calendar { add("lease.length", "a lease length is calendar time (e.g. 30m)") }
        if leasing.maxRejections < 1 { add("lease.maxRejections", "must be 1 or more") }
        if leasing.maxLeaseExpiries < 1 { add("lease.maxLeaseExpiries", "must be 1 or more") }
        for (i, c) in creditClauses.enumerated() {
            if !(0...100).contains(c.belowPercent) { add("credits[\(i)].below", "\(c.belowPercent) must be a percentage 0–100") }
            if !(0...100).contains(c.creditPercent) { add("credits[\(i)].credit", "\(c.creditPercent) must be a percentage 0–100") }
        }
        if !creditClauses.isEmpty && monthlyFee == nil { add("monthlyFee", "credit clauses need a monthly fee") }
        for (i, b) in breachClauses.enumerated() where b.moveToQueue == nil && !b.escalate {
            add("breach[\(i)]", "a breach clause must move the ticket or escalate it")
        }
        return p
    }
}
