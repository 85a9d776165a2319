import Foundation

/// Decides where a ticket goes. Pure and deterministic.
///
/// Skips agreement versions not in force at `instant` (and lower versions of an agreement
/// whose higher version is in force), agreements that do not cover the ticket, that are
/// excluded for it (rejected or let leases expire as often as allowed), that are outside
/// their coverage hours and do not take such tickets, or that are at a volume cap. Among
/// the rest: lowest precedence first, then lowest load (open tickets), then id. With none
/// left the ticket goes to `defaultQueue` (in-house, no agreement).
///
/// The trace lists the chosen agreement, then the eligible ones in rank order, then the
/// skipped ones in the order `agreements` gives them.
///
/// - Parameters:
///   - ticket: the ticket as folded from its events.
///   - agreements: every known agreement version (any order; versions not in force are traced as skipped).
///   - load: open and monthly counts at `instant`.
///   - instant: when the routing happens (domain time).
///   - defaultQueue: the fallback in-house queue.
public func route(
    _ ticket: Ticket, agreements: [Agreement], load: RoutingLoad, at instant: Date, defaultQueue: String
) -> RoutingDecision {
    // The highest version in force per agreement id.
    var inForce: [String: Int] = [:]
    inForce.reserveCapacity(agreements.count)
    for i in agreements.indices where agreements[i].isInForce(at: instant) {
        if let v = inForce[agreements[i].id], v >= agreements[i].version { continue }
        inForce[agreements[i].id] = agreements[i].version
    }

    var skipped: [RoutingConsideration] = []
    var eligible: [(index: Int, precedence: Int, load: Int)] = []
    skipped.reserveCapacity(agreements.count)

    for index in agreements.indices {
        if let reason = skipReason(agreements[index], ticket: ticket, load: load, at: instant, inForce: inForce) {
            skipped.append(RoutingConsideration(
                agreementId: agreements[index].id, agreementVersion: agreements[index].version, outcome: .skipped, reason: reason))
        } else {
            eligible.append((index, agreements[index].precedence, load.openTickets[agreements[index].id] ?? 0))
        }
    }

    eligible.sort { l, r in
        if l.precedence != r.precedence { return l.precedence < r.precedence }
        if l.load != r.load { return l.load < r.load }
        return agreements[l.index].id < agreements[r.index].id
    }

    guard let first = eligible.first else {
        return RoutingDecision(assignment: QueueAssignment(queue: defaultQueue), considerations: skipped)
    }
    let winner = (agreement: agreements[first.index], load: first.load)
    var considerations: [RoutingConsideration] = []
    considerations.reserveCapacity(agreements.count)
    considerations.append(RoutingConsideration(
        agreementId: winner.agreement.id, agreementVersion: winner.agreement.version, outcome: .chosen,
        reason: .rankedFirst(precedence: winner.agreement.precedence, load: winner.load, competitors: eligible.count - 1)))
    for entry in eligible.dropFirst() {
        let other = (agreement: agreements[entry.index], load: entry.load)
        considerations.append(RoutingConsideration(
            agreementId: other.agreement.id, agreementVersion: other.agreement.version, outcome: .passedOver,
            reason: .rankedBelow(winner: winner.agreement.id, precedence: other.agreement.precedence, load: other.load,
                                 winnerPrecedence: winner.agreement.precedence, winnerLoad: winner.load)))
    }
    considerations.append(contentsOf: skipped)

    // The least loaded of the agreement's queues; ties go to the first listed.
    var queue = winner.agreement.queues.first ?? defaultQueue
    var best = Int.max
    for q in winner.agreement.queues {
        let depth = load.queueDepth[q] ?? 0
        if depth < best { best = depth; queue = q }
    }
    return RoutingDecision(assignment: winner.agreement.assignment(queue: queue), considerations: considerations)
}

/// Why an agreement cannot take the ticket, or nil if it can. Takes the agreement borrowed, so
/// the hot loop never copies an `Agreement` (which holds many reference-counted fields).
private func skipReason(
    _ a: Agreement, ticket: Ticket, load: RoutingLoad, at instant: Date, inForce: [String: Int]
) -> RoutingConsideration.Reason? {
    if instant < a.effectiveFrom { return .notYetInForce(from: a.effectiveFrom) }
    if let to = a.effectiveTo, instant >= to { return .noLongerInForce(to: to) }
    if let v = inForce[a.id], v != a.version { return .superseded(byVersion: v) }
    if !a.coverage.categories.isEmpty && !a.coverage.categories.contains(ticket.details.category) { return .categoryNotCovered(ticket.details.category) }
    if !a.coverage.subcategories.isEmpty && !(ticket.details.subcategory.map(a.coverage.subcategories.contains) ?? false) {
        return .subcategoryNotCovered(ticket.details.subcategory)
    }
    if !a.coverage.sites.isEmpty && !(ticket.details.site.map(a.coverage.sites.contains) ?? false) { return .siteNotCovered(ticket.details.site) }
    if !a.coverage.departments.isEmpty && !(ticket.details.department.map(a.coverage.departments.contains) ?? false) {
        return .departmentNotCovered(ticket.details.department)
    }
    if !a.coverage.priorities.isEmpty && !a.coverage.priorities.contains(ticket.priority) { return .priorityNotCovered(ticket.priority) }
    if let n = ticket.rejections[a.id], n >= a.leasing.maxRejections {
        return .rejectedTooOften(count: n, limit: a.leasing.maxRejections)
    }
    if let n = ticket.leaseExpiries[a.id], n >= a.leasing.maxLeaseExpiries {
        return .leaseExpiredTooOften(count: n, limit: a.leasing.maxLeaseExpiries)
    }
    if !a.takesTicketsOutsideHours && !a.serviceLevel.calendar.isOpen(at: instant) {
        return .outsideCoverageHours(calendarName: a.serviceLevel.calendarName, calendar: a.serviceLevel.calendar)
    }
    let open = load.openTickets[a.id] ?? 0
    if let cap = a.caps.maxOpenTickets, open >= cap { return .atOpenCap(open: open, cap: cap) }
    if let cap = a.caps.maxNewTicketsPerMonth {
        let n = load.newTicketsThisMonth[a.id] ?? 0
        if n >= cap { return .atMonthlyCap(thisMonth: n, cap: cap) }
    }
    return nil
}
