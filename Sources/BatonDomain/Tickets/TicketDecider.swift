import Foundation

/// The ticket life cycle as a Decider: `decide` checks invariants and returns new events,
/// `evolve` folds an event into the state. Both are pure: time, ids and the actor are parameters.
///
/// ```swift
/// let decider = TicketDecider()
/// var state: Ticket? = nil                      // a stream with no events
/// for e in try decider.decide(.open(cmd), state: state, by: .ingest("portal"), at: now) {
///     state = TicketDecider.evolve(state, e)
/// }
/// ```
public struct TicketDecider: Sendable {
    /// Settings for deciding.
    public struct Configuration: Sendable, Hashable {
        /// Derives a priority from impact × urgency when none is given. Default: ``PriorityMatrix/itil``.
        public var priorityMatrix: PriorityMatrix = .itil
        /// Creates a configuration.
        public init(priorityMatrix: PriorityMatrix = .itil) { self.priorityMatrix = priorityMatrix }
    }

    /// The configuration.
    public var configuration: Configuration

    /// Creates a decider.
    public init(configuration: Configuration = .init()) { self.configuration = configuration }

    /// The state of a stream with no events.
    public static let initialState: Ticket? = nil

    /// Folds a whole stream.
    public static func fold(_ events: some Sequence<Stamped<TicketEvent>>) -> Ticket? {
        events.reduce(initialState, evolve)
    }

    /// Decides what happens when `actor` sends `command` at `now` to a ticket in `state`
    /// (nil: the stream is empty). Returns the events to append (possibly none, for a no-op
    /// such as recording a warning twice) or throws a ``TicketError`` that names the ticket's
    /// status and the commands it accepts.
    public func decide(
        _ command: TicketCommand, state: Ticket?, by actor: Actor, at now: Date
    ) throws(TicketError) -> [Stamped<TicketEvent>] {
        let name = command.name
        let allowed = TicketCommand.Name.allowed(in: state?.status)
        func fail(_ code: TicketError.Code, _ message: String) -> TicketError {
            TicketError(code: code, command: name, ticket: state?.number, status: state?.status, allowed: allowed, message: message)
        }
        guard allowed.contains(name) else {
            let message = switch state?.status {
            case nil: "the ticket has not been opened"
            case .some(let s): "\(name.rawValue) is not allowed while the ticket is \(s.rawValue)"
            }
            throw fail(.invalidTransition, message)
        }
        // PostgreSQL's text, and its JSON operators, cannot hold U+0000: an event with one
        // would be stored (as `\u0000` in its JSON) and fail every query that reads it as text.
        if let field = command.texts.first(where: { $0.value.utf8.contains(0) })?.field {
            throw fail(.invalidCommand, "\(field) must not hold U+0000 (NUL)")
        }
        func stamp(_ e: TicketEvent) -> [Stamped<TicketEvent>] { [Stamped(e, at: now, by: actor)] }

        guard let ticket = state else {
            guard case .open(let open) = command else { throw fail(.invalidTransition, "the ticket has not been opened") }
            guard !open.details.subject.isBlank else {
                throw fail(.invalidCommand, "subject must not be empty")
            }
            guard !open.number.isEmpty else { throw fail(.invalidCommand, "number must not be empty") }
            let priority = open.priority
                ?? configuration.priorityMatrix.priority(impact: open.details.impact, urgency: open.details.urgency)
            return stamp(.opened(TicketOpened(
                ticketId: open.ticketId, number: open.number, details: open.details, priority: priority,
                prioritySource: open.priority == nil ? "matrix" : "given")))
        }

        /// A vendor may only act on tickets in its own queues.
        func requireOwnQueue() throws(TicketError) {
            if actor.kind == .vendor, ticket.assignment?.placement.vendorId != actor.name {
                throw fail(.notHolder, "\(actor) does not hold this ticket: it is in \(ticket.assignment?.placement.description ?? "no queue")")
            }
        }
        /// Nobody else may act while someone holds an active lease.
        func requireNoForeignLease() throws(TicketError) {
            if let lease = ticket.lease, lease.isActive(at: now), lease.holder != actor {
                throw fail(.notHolder, "\(lease.holder) holds the lease until \(lease.expiresAt.formatted(.iso8601))")
            }
        }

        switch command {
        case .open:
            throw fail(.invalidTransition, "the ticket is already open")

        case .route(let decision, let cause):
            guard actor.kind != .vendor else { throw fail(.notHolder, "vendors cannot route tickets; reject it instead") }
            if let current = ticket.assignment?.placement, current == decision.assignment, ticket.status == .queued {
                return []
            }
            return stamp(.routed(decision.routed(cause: cause)))

        case .reassign(let placement, let reason):
            guard actor.kind != .vendor else { throw fail(.notHolder, "vendors cannot reassign tickets; reject it instead") }
            if ticket.assignment?.placement.queue == placement.queue {
                throw fail(.invalidCommand, "the ticket is already in queue \(placement.queue)")
            }
            return stamp(.reassigned(TicketReassigned(assignment: placement, reason: reason)))

        case .lease(let until):
            try requireOwnQueue()
            try requireNoForeignLease()
            guard until > now else { throw fail(.invalidCommand, "a lease must end after it starts") }
            return stamp(.leased(TicketLeased(holder: actor, expiresAt: until)))

        case .releaseLease:
            guard let lease = ticket.lease, lease.isActive(at: now) else { throw fail(.notHolder, "there is no active lease to release") }
            guard lease.holder == actor else { throw fail(.notHolder, "\(lease.holder) holds the lease, not \(actor)") }
            return stamp(.leaseReleased(LeaseReleased(holder: actor)))

        case .expireLease:
            guard let lease = ticket.lease else { throw fail(.invalidCommand, "there is no lease to expire") }
            guard !lease.isActive(at: now) else {
                throw fail(.invalidCommand, "the lease runs until \(lease.expiresAt.formatted(.iso8601))")
            }
            let agreement = ticket.assignment?.placement.agreementId
            let count = (agreement.flatMap { ticket.leaseExpiries[$0] } ?? 0) + 1
            return stamp(.leaseExpired(LeaseExpired(holder: lease.holder, agreementId: agreement, expiryCount: count)))

        case .accept:
            try requireOwnQueue()
            try requireNoForeignLease()
            return stamp(.accepted(TicketAccepted(assignee: actor)))

        case .reject(let reason):
            try requireOwnQueue()
            try requireNoForeignLease()
            guard let placement = ticket.assignment?.placement else { throw fail(.invalidCommand, "the ticket is in no queue") }
            guard !reason.isBlank else { throw fail(.invalidCommand, "a rejection needs a reason") }
            let count = (placement.agreementId.flatMap { ticket.rejections[$0] } ?? 0) + 1
            return stamp(.rejected(TicketRejected(assignment: placement, reason: reason, rejectionCount: count)))

        case .startWork:
            try requireOwnQueue()
            return stamp(.workStarted(WorkStarted()))

        case .comment(let text, let visibility):
            try requireOwnQueue()
            guard !text.isBlank else {
                throw fail(.invalidCommand, "a comment must not be empty")
            }
            return stamp(.commentAdded(CommentAdded(text: text, visibility: visibility)))

        case .hold(let reason, let until, let note):
            try requireOwnQueue()
            try requireNoForeignLease()
            if let until, until <= now { throw fail(.invalidCommand, "a hold must end after it starts") }
            return stamp(.putOnHold(TicketPutOnHold(reason: reason, until: until, note: note)))

        case .resume:
            try requireOwnQueue()
            return stamp(.resumed(TicketResumed()))

        case .changePriority(let priority, let reason):
            guard actor.kind != .vendor else { throw fail(.notHolder, "vendors cannot change priority") }
            guard priority != ticket.priority else { return [] }
            return stamp(.priorityChanged(PriorityChanged(from: ticket.priority, to: priority, reason: reason)))

        case .escalate(let reason):
            try requireOwnQueue()
            return stamp(.escalated(TicketEscalated(level: ticket.escalationLevel + 1, reason: reason)))

        case .resolve(let code, let note):
            try requireOwnQueue()
            try requireNoForeignLease()
            guard !code.isEmpty else { throw fail(.invalidCommand, "a resolution needs a code") }
            return stamp(.resolved(TicketResolved(code: code, note: note)))

        case .reopen(let reason):
            try requireOwnQueue()
            return stamp(.reopened(TicketReopened(reason: reason)))

        case .close:
            try requireOwnQueue()
            return stamp(.closed(TicketClosed()))

        case .cancel(let reason):
            guard actor.kind != .vendor else { throw fail(.notHolder, "vendors cannot cancel tickets; reject it instead") }
            return stamp(.cancelled(TicketCancelled(reason: reason)))

        case .recordSLAWarning(let clockId, let threshold, let dueAt):
            guard actor.kind != .vendor else { throw fail(.notHolder, "only the SLA watcher records warnings") }
            guard !ticket.recordedSLAAlarms.contains(SLAAlarmKey(clockId: clockId, threshold: threshold)) else { return [] }
            return stamp(.slaWarningReached(SLAWarningReached(clockId: clockId, threshold: threshold, dueAt: dueAt)))

        case .recordSLABreach(let clockId, let dueAt):
            guard actor.kind != .vendor else { throw fail(.notHolder, "only the SLA watcher records breaches") }
            guard !ticket.recordedSLAAlarms.contains(SLAAlarmKey(clockId: clockId, threshold: nil)) else { return [] }
            return stamp(.slaBreached(SLABreached(clockId: clockId, dueAt: dueAt)))
        }
    }

    /// Applies one event. Never fails: an event that does not fit the state is ignored.
    public static func evolve(_ state: Ticket?, _ stamped: Stamped<TicketEvent>) -> Ticket? {
        let at = stamped.occurredAt
        guard var t = state else {
            guard case .opened(let e) = stamped.event else { return nil }
            return Ticket(
                id: e.ticketId, number: e.number, details: e.details, priority: e.priority, status: .unassigned,
                openedAt: at, openedBy: stamped.actor, assignment: nil, lease: nil, hold: nil, firstRespondedAt: nil,
                resolution: nil, escalationLevel: 0, rejections: [:], leaseExpiries: [:], recordedSLAAlarms: [],
                version: 1)
        }
        t.version += 1
        switch stamped.event {
        case .opened:
            break
        case .routed(let e):
            t.assignment = Assignment(placement: e.assignment, since: at, assignee: nil)
            t.lease = nil
            t.status = .queued
        case .reassigned(let e):
            t.assignment = Assignment(placement: e.assignment, since: at, assignee: nil)
            t.lease = nil
            t.status = .queued
        case .leased(let e):
            t.lease = Lease(holder: e.holder, expiresAt: e.expiresAt)
        case .leaseReleased:
            t.lease = nil
        case .leaseExpired(let e):
            t.lease = nil
            if let id = e.agreementId { t.leaseExpiries[id] = e.expiryCount }
        case .accepted(let e):
            t.assignment?.assignee = e.assignee
            t.lease = nil
            t.status = .accepted
            if t.firstRespondedAt == nil { t.firstRespondedAt = at }
        case .rejected(let e):
            if let id = e.assignment.agreementId { t.rejections[id] = e.rejectionCount }
            t.assignment = nil
            t.lease = nil
            t.status = .unassigned
        case .workStarted:
            t.status = .inProgress
        case .commentAdded:
            break
        case .putOnHold(let e):
            t.hold = Hold(reason: e.reason, since: at, until: e.until, resumeTo: t.status)
            t.status = .onHold
        case .resumed:
            t.status = t.hold?.resumeTo ?? .inProgress
            t.hold = nil
        case .priorityChanged(let e):
            t.priority = e.to
        case .escalated(let e):
            t.escalationLevel = e.level
        case .resolved(let e):
            t.resolution = e
            t.hold = nil
            t.lease = nil
            t.status = .resolved
        case .reopened:
            t.resolution = nil
            t.status = t.assignment?.assignee != nil ? .inProgress : (t.assignment != nil ? .queued : .unassigned)
        case .closed:
            t.status = .closed
        case .cancelled:
            t.hold = nil
            t.lease = nil
            t.status = .cancelled
        case .slaWarningReached(let e):
            t.recordedSLAAlarms.insert(SLAAlarmKey(clockId: e.clockId, threshold: e.threshold))
        case .slaBreached(let e):
            t.recordedSLAAlarms.insert(SLAAlarmKey(clockId: e.clockId, threshold: nil))
        }
        return t
    }
}

/// A recorded SLA warning (with its threshold) or breach (threshold nil).
public struct SLAAlarmKey: Codable, Sendable, Hashable {
    /// The clock.
    public var clockId: String
    /// The warning threshold, nil for a breach.
    public var threshold: Double?
}
