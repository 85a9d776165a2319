import Foundation

/// What opening a ticket needs.
public struct OpenTicket: Sendable, Hashable {
    /// The new stream id (ids are parameters, never generated here).
    public var ticketId: UUID
    /// The short number, e.g. `T-1042`.
    public var number: String
    /// Descriptive data.
    public var details: TicketDetails
    /// A priority given directly; nil derives it from impact × urgency.
    public var priority: Priority?

    /// Creates the command data.
    public init(ticketId: UUID, number: String, details: TicketDetails, priority: Priority? = nil) {
        self.ticketId = ticketId; self.number = number; self.details = details; self.priority = priority
    }
}

/// Something someone asks a ticket to do. Who asks and when are parameters of `decide`.
public enum TicketCommand: Sendable, Hashable {
    /// Open a new ticket.
    case open(OpenTicket)
    /// Place the ticket in the queue a routing decision chose (first routing or re-routing).
    case route(RoutingDecision, cause: RoutingCause)
    /// Take an exclusive lease until the given instant (or renew one's own lease).
    case lease(until: Date)
    /// Give one's lease back.
    case releaseLease
    /// Record that the current lease has lapsed (system).
    case expireLease
    /// Accept the ticket: the first response for the assignment.
    case accept
    /// Decline the assignment (vendor), with a reason.
    case reject(reason: String)
    /// Start working on an accepted ticket.
    case startWork
    /// Add a comment.
    case comment(String, visibility: CommentVisibility)
    /// Put on hold.
    case hold(HoldReason, until: Date? = nil, note: String? = nil)
    /// End the hold.
    case resume
    /// Change the priority.
    case changePriority(Priority, reason: String? = nil)
    /// Move to another queue by hand (agent).
    case reassign(QueueAssignment, reason: String)
    /// Escalate hierarchically.
    case escalate(reason: String)
    /// Resolve.
    case resolve(code: String, note: String)
    /// Reopen a resolved ticket.
    case reopen(reason: String)
    /// Close a resolved ticket.
    case close
    /// Cancel.
    case cancel(reason: String)
    /// Record that an SLA clock passed a warning threshold (SLA watcher). Idempotent.
    case recordSLAWarning(clockId: String, threshold: Double, dueAt: Date)
    /// Record that an SLA clock breached (SLA watcher). Idempotent.
    case recordSLABreach(clockId: String, dueAt: Date)

    /// The command's name as shown in errors, e.g. `"resolve"`.
    public var name: Name {
        switch self {
        case .open: .open
        case .route: .route
        case .lease: .lease
        case .releaseLease: .releaseLease
        case .expireLease: .expireLease
        case .accept: .accept
        case .reject: .reject
        case .startWork: .startWork
        case .comment: .comment
        case .hold: .hold
        case .resume: .resume
        case .changePriority: .changePriority
        case .reassign: .reassign
        case .escalate: .escalate
        case .resolve: .resolve
        case .reopen: .reopen
        case .close: .close
        case .cancel: .cancel
        case .recordSLAWarning: .recordSLAWarning
        case .recordSLABreach: .recordSLABreach
        }
    }

    /// Command names, in a stable order.
    public enum Name: String, CaseIterable, Sendable, Hashable, Comparable {
        case open, route, reassign, lease, releaseLease, expireLease, accept, reject, startWork, comment, hold, resume
        case changePriority, escalate, resolve, reopen, close, cancel, recordSLAWarning, recordSLABreach

        public static func < (lhs: Name, rhs: Name) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }

        /// The commands a ticket in `status` accepts (nil: the ticket does not exist yet).
        public static func allowed(in status: TicketStatus?) -> [Name] {
            let sla: [Name] = [.recordSLAWarning, .recordSLABreach]
            guard let status else { return [.open] }
            switch status {
            case .unassigned:
                return [.route, .reassign, .comment, .changePriority, .escalate, .resolve, .cancel] + sla
            case .queued:
                return [.route, .reassign, .lease, .releaseLease, .expireLease, .accept, .reject, .comment, .hold,
                        .changePriority, .escalate, .resolve, .cancel] + sla
            case .accepted:
                return [.route, .reassign, .startWork, .comment, .hold, .changePriority, .escalate, .resolve, .cancel] + sla
            case .inProgress:
                return [.route, .reassign, .comment, .hold, .changePriority, .escalate, .resolve, .cancel] + sla
            case .onHold:
                return [.resume, .comment, .changePriority, .escalate, .resolve, .cancel] + sla
            case .resolved:
                return [.reopen, .close, .comment] + sla
            case .closed, .cancelled:
                return []
            }
        }
    }
}

extension TicketCommand {
    /// The text the command carries from whoever gave it, by field name: what becomes free
    /// text in its events.
    var texts: [(field: String, value: String)] {
        func assignment(_ a: QueueAssignment) -> [(field: String, value: String)] {
            [("queue", a.queue)] + [("agreementId", a.agreementId), ("vendorId", a.vendorId)].compactMap { f, v in v.map { (f, $0) } }
        }
        switch self {
        case .open(let o):
            let d = o.details
            return [("number", o.number), ("source", d.source), ("requester", d.requester), ("subject", d.subject), ("description", d.description)]
                + [("externalReference", d.externalReference), ("site", d.site), ("department", d.department), ("subcategory", d.subcategory)]
                    .compactMap { f, v in v.map { (f, $0) } }
        case .route(let decision, _): return assignment(decision.assignment) + [("placementReason", decision.placementReason ?? "")]
        case .reject(let reason), .escalate(let reason), .reopen(let reason), .cancel(let reason): return [("reason", reason)]
        case .comment(let text, _): return [("body", text)]
        case .hold(_, _, let note): return note.map { [("note", $0)] } ?? []
        case .changePriority(_, let reason): return reason.map { [("reason", $0)] } ?? []
        case .reassign(let to, let reason): return assignment(to) + [("reason", reason)]
        case .resolve(let code, let note): return [("code", code), ("note", note)]
        default: return []
        }
    }
}
