import Foundation

/// Where a ticket is in its life.
public enum TicketStatus: String, Codable, Sendable, Hashable, CaseIterable {
    /// Open, waiting to be routed (new, or after a rejection).
    case unassigned
    /// In a queue, not yet accepted.
    case queued
    /// Accepted by the queue's holder (first response given).
    case accepted
    /// Being worked on.
    case inProgress = "in-progress"
    /// On hold; see `Ticket.hold`.
    case onHold = "on-hold"
    /// Resolved; may be reopened or closed.
    case resolved
    /// Closed: final.
    case closed
    /// Cancelled: final.
    case cancelled

    /// Closed or cancelled: no command changes the ticket any more.
    public var isFinal: Bool { self == .closed || self == .cancelled }
}

/// An exclusive, time-limited claim on a queued ticket.
public struct Lease: Codable, Sendable, Hashable {
    /// Who holds it.
    public var holder: Actor
    /// When it lapses.
    public var expiresAt: Date
    /// Whether the lease is still in force at `instant`.
    public func isActive(at instant: Date) -> Bool { instant < expiresAt }
}

/// The current hold.
public struct Hold: Codable, Sendable, Hashable {
    /// Why.
    public var reason: HoldReason
    /// Since when.
    public var since: Date
    /// Expected end, if known.
    public var until: Date?
    /// The status to return to on resume.
    public var resumeTo: TicketStatus
}

/// A ticket's current assignment.
public struct Assignment: Codable, Sendable, Hashable {
    /// Where.
    public var placement: QueueAssignment
    /// When it entered the queue (the start of its OLA/UC clocks).
    public var since: Date
    /// Who accepted it, once accepted.
    public var assignee: Actor?
}

/// The state of one ticket, folded from its events with `TicketDecider.evolve`.
public struct Ticket: Codable, Sendable, Hashable {
    /// The stream id.
    public var id: UUID
    /// The short number, e.g. `T-1042`.
    public var number: String
    /// Descriptive data.
    public var details: TicketDetails
    /// The priority in force.
    public var priority: Priority
    /// Life-cycle status.
    public var status: TicketStatus
    /// When it was opened (the start of the customer SLA clocks).
    public var openedAt: Date
    /// Who opened it.
    public var openedBy: Actor
    /// The current queue, if any.
    public var assignment: Assignment?
    /// The current lease, if any (it may have lapsed; see `Lease.isActive(at:)`).
    public var lease: Lease?
    /// The current hold, if on hold.
    public var hold: Hold?
    /// When anyone first responded (accepted), if ever.
    public var firstRespondedAt: Date?
    /// The last resolution, if resolved.
    public var resolution: TicketResolved?
    /// Hierarchical escalation level (0 = not escalated).
    public var escalationLevel: Int
    /// Rejections per agreement id, which routing uses to exclude agreements.
    public var rejections: [String: Int]
    /// Expired leases per agreement id, which routing uses to exclude agreements.
    public var leaseExpiries: [String: Int]
    /// SLA warnings and breaches already recorded, so the watcher records each only once.
    public var recordedSLAAlarms: Set<SLAAlarmKey>
    /// Number of events folded (the stream version).
    public var version: Int

    /// Whether the ticket still needs work (not resolved, closed or cancelled).
    public var isActive: Bool { ![.resolved, .closed, .cancelled].contains(status) }
}
