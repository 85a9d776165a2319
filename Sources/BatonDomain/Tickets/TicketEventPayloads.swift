import Foundation

/// A ticket was opened (from ingest or by an agent).
public struct TicketOpened: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "TicketOpened"
    /// The ticket's stream id.
    public var ticketId: UUID
    /// The short number people use, e.g. `T-1042`.
    public var number: String
    /// Descriptive data.
    public var details: TicketDetails
    /// The priority in force.
    public var priority: Priority
    /// `"given"` when the priority was set directly, `"matrix"` when derived from impact × urgency.
    public var prioritySource: String
    /// Creates the payload.
    public init(ticketId: UUID, number: String, details: TicketDetails, priority: Priority, prioritySource: String) {
        self.ticketId = ticketId; self.number = number; self.details = details
        self.priority = priority; self.prioritySource = prioritySource
    }
}

/// The ticket was routed (or re-routed) to a queue by the routing rules.
public struct TicketRouted: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "TicketRouted"
    /// Where it went.
    public var assignment: QueueAssignment
    /// Why routing ran.
    public var cause: RoutingCause
    /// One sentence saying why this queue.
    public var summary: String
    /// Every agreement considered, with its reason.
    public var trace: [RoutingTraceLine]
    /// Creates the payload.
    public init(assignment: QueueAssignment, cause: RoutingCause, summary: String, trace: [RoutingTraceLine]) {
        self.assignment = assignment; self.cause = cause; self.summary = summary; self.trace = trace
    }
}

/// An agent moved the ticket to another queue by hand.
public struct TicketReassigned: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "TicketReassigned"
    /// The new place.
    public var assignment: QueueAssignment
    /// Why.
    public var reason: String
    /// Creates the payload.
    public init(assignment: QueueAssignment, reason: String) { self.assignment = assignment; self.reason = reason }
}

/// A holder took an exclusive lease on the ticket until `expiresAt`.
public struct TicketLeased: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "TicketLeased"
    /// Who holds it.
    public var holder: Actor
    /// When the lease lapses unless renewed.
    public var expiresAt: Date
    /// Creates the payload.
    public init(holder: Actor, expiresAt: Date) { self.holder = holder; self.expiresAt = expiresAt }
}

/// The holder gave the lease back.
public struct LeaseReleased: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "LeaseReleased"
    /// Who held it.
    public var holder: Actor
    /// Creates the payload.
    public init(holder: Actor) { self.holder = holder }
}

/// A lease lapsed without the holder accepting or releasing the ticket.
public struct LeaseExpired: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "LeaseExpired"
    /// Who held it.
    public var holder: Actor
    /// The agreement under which the ticket was queued.
    public var agreementId: String?
    /// How many leases on this agreement have now expired for this ticket.
    public var expiryCount: Int
    /// Creates the payload.
    public init(holder: Actor, agreementId: String?, expiryCount: Int) {
        self.holder = holder; self.agreementId = agreementId; self.expiryCount = expiryCount
    }
}

/// The queue's holder accepted the ticket: this is the first response for the assignment.
public struct TicketAccepted: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "TicketAccepted"
    /// Who now owns the work.
    public var assignee: Actor
    /// Creates the payload.
    public init(assignee: Actor) { self.assignee = assignee }
}

/// A vendor declined the assignment; the ticket needs routing again.
public struct TicketRejected: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "TicketRejected"
    /// The assignment that was declined.
    public var assignment: QueueAssignment
    /// The vendor's reason.
    public var reason: String
    /// How many times this agreement has now rejected this ticket.
    public var rejectionCount: Int
    /// Creates the payload.
    public init(assignment: QueueAssignment, reason: String, rejectionCount: Int) {
        self.assignment = assignment; self.reason = reason; self.rejectionCount = rejectionCount
    }
}

/// Work on the ticket started.
public struct WorkStarted: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "WorkStarted"
    /// Creates the payload.
    public init() {}
}

/// Someone commented.
public struct CommentAdded: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "CommentAdded"
    /// The text.
    public var text: String
    /// Who may see it.
    public var visibility: CommentVisibility
    /// Creates the payload.
    public init(text: String, visibility: CommentVisibility) { self.text = text; self.visibility = visibility }
}

/// The ticket was put on hold.
public struct TicketPutOnHold: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "TicketPutOnHold"
    /// Why.
    public var reason: HoldReason
    /// When the hold is expected to end, if known.
    public var until: Date?
    /// A note for people.
    public var note: String?
    /// Creates the payload.
    public init(reason: HoldReason, until: Date?, note: String?) { self.reason = reason; self.until = until; self.note = note }
}

/// The hold ended.
public struct TicketResumed: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "TicketResumed"
    /// Creates the payload.
    public init() {}
}

/// The priority changed; SLA targets are recomputed from each clock's start.
public struct PriorityChanged: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "PriorityChanged"
    /// The old priority.
    public var from: Priority
    /// The new priority.
    public var to: Priority
    /// Why.
    public var reason: String?
    /// Creates the payload.
    public init(from: Priority, to: Priority, reason: String?) { self.from = from; self.to = to; self.reason = reason }
}

/// The ticket was escalated (hierarchically: more attention, same queue).
public struct TicketEscalated: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "TicketEscalated"
    /// The escalation level after this event (1, 2, …).
    public var level: Int
    /// Why.
    public var reason: String
    /// Creates the payload.
    public init(level: Int, reason: String) { self.level = level; self.reason = reason }
}

/// The ticket was resolved.
public struct TicketResolved: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "TicketResolved"
    /// A resolution code, e.g. `"fixed"`, `"workaround"`, `"no-fault-found"`.
    public var code: String
    /// What was done.
    public var note: String
    /// Creates the payload.
    public init(code: String, note: String) { self.code = code; self.note = note }
}

/// A resolved ticket was reopened.
public struct TicketReopened: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "TicketReopened"
    /// Why.
    public var reason: String
    /// Creates the payload.
    public init(reason: String) { self.reason = reason }
}

/// A resolved ticket was closed; nothing more can happen to it.
public struct TicketClosed: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "TicketClosed"
    /// Creates the payload.
    public init() {}
}

/// The ticket was cancelled (raised in error, duplicate, withdrawn).
public struct TicketCancelled: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "TicketCancelled"
    /// Why.
    public var reason: String
    /// Creates the payload.
    public init(reason: String) { self.reason = reason }
}

/// The SLA watcher saw a clock pass a warning threshold.
public struct SLAWarningReached: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "SLAWarningReached"
    /// The clock, as in `SLAClock.id`.
    public var clockId: String
    /// The fraction of the target, e.g. 0.75.
    public var threshold: Double
    /// The clock's due instant at the time.
    public var dueAt: Date
    /// Creates the payload.
    public init(clockId: String, threshold: Double, dueAt: Date) { self.clockId = clockId; self.threshold = threshold; self.dueAt = dueAt }
}

/// The SLA watcher saw a clock pass its due instant.
public struct SLABreached: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "SLABreached"
    /// The clock, as in `SLAClock.id`.
    public var clockId: String
    /// The due instant that passed.
    public var dueAt: Date
    /// Creates the payload.
    public init(clockId: String, dueAt: Date) { self.clockId = clockId; self.dueAt = dueAt }
}
