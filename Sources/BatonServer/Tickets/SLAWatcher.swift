import BatonDomain
import BatonProjections
import EventStore
import Foundation
import Logging
import Metrics
import Postgres
import ServiceLifecycle

/// Turns deadlines into events at the instant they fall due: SLA warnings and breaches (and
/// the agreement's breach clauses), expired leases (and the re-routing they may call for),
/// holds whose until-time has come.
///
/// It reads each ticket's next deadline from the tickets read model (`next_deadline_at`),
/// sleeps until the earliest one, or until a projection applies new events, which may bring
/// an earlier one. At a deadline it folds the ticket from its stream and computes its clocks
/// with the domain's code, so the read model only says *when* to look, never *what* to do.
/// Deadlines that passed while no batond was running are handled at start, once: the domain
/// records each alarm at most once, and a lease can only expire once.
///
/// The read model computes a ticket's deadline with the agreements and policy as of the
/// ticket's last event. After a change to them (and at start), the watcher checks each active
/// ticket whose last event came before the change, a page at a time between its other work,
/// and keeps the tickets whose deadline with the agreements in force comes sooner (a shortened
/// customer SLA) until something is recorded on them. A deadline that moved later is met by
/// the second look described at ``Handled``.
///
/// Like a projection, it runs on exactly one replica (session advisory lock `sla-watcher`).
public struct SLAWatcher: Service {
    let commands: TicketCommands
    let agreements: AgreementCache
    let queries: TicketQueries
    let projectionsChanged: ChangeSignal
    let now: @Sendable () -> Date
    let logger: Logger
    /// The longest sleep without looking again (a safety net; deadlines wake it on time).
    public var pollInterval: Duration = .seconds(5)
    public var takeoverInterval: Duration = .seconds(2)
    /// How many due tickets one read of the read model takes, and how many tickets one page of
    /// the check after a change of the agreements takes; more are read page by page.
    /// Tickets waiting for their revisit are read again on every pass (they stay due in the
    /// read model until an event moves them): after a change that lengthens the customer SLA,
    /// those whose old deadline has passed and whose new one has not.
    public var pageSize = 200
    /// How often the watcher looks whether the agreements or the policy have changed.
    public var agreementCheckInterval: Duration = .seconds(1)
    private let warnings = Counter(label: "baton_sla_warnings")
    private let breaches = Counter(label: "baton_sla_breaches")
    private let leaseExpiries = Counter(label: "baton_lease_expiries")

    public init(
        commands: TicketCommands, agreements: AgreementCache, queries: TicketQueries, projectionsChanged: ChangeSignal,
        logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.commands = commands
        self.agreements = agreements
        self.queries = queries
        self.projectionsChanged = projectionsChanged
        var logger = logger
        logger[metadataKey: "service"] = "sla-watcher"
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Leadership(client: commands.tickets.store.client, name: "sla-watcher").leadIfFree { session in
                        logger.info("SLA watcher active on this replica")
                        try await watch(session: session)
                    }
                } catch is CancellationError {
                    return
                } catch {
                    if Task.isCancelled { return }
                    logger.error("SLA watcher stopped: \(String(describing: error)); trying again")
                }
                try? await Task.sleep(for: takeoverInterval)
            }
        }
    }

    /// A ticket handled at a deadline the read model has not moved past yet.
    private struct Handled {
        /// The read model's deadline it was handled at.
        var deadline: Date
        /// When to handle it again although the read model still says `deadline`: the
        /// ticket's next deadline as the watcher computed it. The read model computes a
        /// ticket's deadline with the agreements as of its last event; after a change to the
        /// customer SLA, the watcher (which uses the agreements in force) can find nothing due
        /// at that deadline. Nothing is then recorded, nothing moves the row, and without this
        /// the ticket would not be looked at again.
        var revisit: Date?
    }

    /// The check of tickets whose deadlines the read model computed with the agreements of
    /// before a change: a change can bring a deadline forward (a shorter customer SLA), and
    /// the read model moves a ticket's deadline only when the ticket has an event of its own.
    private struct Recheck {
        /// The position of the agreement or policy event the check is for.
        var position: Int64
        /// The last ticket checked (by id); nil before the first page.
        var cursor: UUID?
        var done = false
    }

    private func watch(session: PostgresConnection) async throws {
        var handled: [UUID: Handled] = [:]
        /// Tickets whose next deadline with the agreements in force comes before the one the
        /// read model has, with that deadline. Dropped once the watcher records something on
        /// them (the row then moves, computed with the agreements in force), or they are no
        /// longer active.
        var early: [UUID: Date] = [:]
        var recheck: Recheck?
        var lastAgreementCheck: ContinuousClock.Instant?
        var lastSessionCheck = ContinuousClock.now
        while !Task.isCancelled {
            let seen = projectionsChanged.generation
            // Looked at when woken (a change of the agreements is an event, and the projection's
            // announcement of it wakes the watcher), at most once per interval: a wake sooner
            // than that is followed by a look at the end of the interval.
            var agreementCheckDue: Duration?
            if let last = lastAgreementCheck, ContinuousClock.now - last < agreementCheckInterval {
                agreementCheckDue = agreementCheckInterval - (ContinuousClock.now - last)
            } else {
                lastAgreementCheck = .now
                let position = try await AgreementLog.lastPosition(on: session)
                if recheck.map({ $0.position != position }) ?? true {
                    // Every replica's cache takes up a change within its lifetime; this one
                    // now, so that the check below uses the agreements just recorded.
                    agreements.invalidate()
                    recheck = Recheck(position: position)
                }
            }
            let instant = now()
            var next: Date?
            // One page of the check per pass, so that deadlines due meanwhile are not held up;
            // once the tickets projection has applied the change, so that every ticket with an
            // event before it has its row (a ticket whose row is written later is written
            // with the agreements as of its last event, the ones before the change).
            if var current = recheck, !current.done,
                try await CheckpointStore(client: commands.tickets.store.client).position(of: "tickets", on: session) ?? 0 >= current.position
            {
                let page = try await queries.activeTickets(lastEventBefore: current.position, after: current.cursor, limit: pageSize)
                for (ticketId, deadline) in page {
                    do {
                        if let sooner = try await soonerDeadline(ticketId, than: deadline, at: instant) { early[ticketId] = sooner }
                    } catch {
                        // Looked at again later, as a deadline that could not be acted on.
                        early[ticketId] = instant.addingTimeInterval(retryDelay)
                        logger.error("could not check a ticket's deadline against the agreements in force", metadata: [
                            "ticket": "\(ticketId)", "error": "\(error)",
                        ])
                    }
                }
                current.cursor = page.last?.ticketId
                current.done = page.count < pageSize
                recheck = current
            }
            for (ticketId, deadline) in early where deadline <= instant {
                do {
                    early[ticketId] = try await handle(ticketId, at: instant)
                } catch {
                    // The read model still has the later deadline: tried again after a while.
                    early[ticketId] = instant.addingTimeInterval(retryDelay)
                    logger.error("could not act on a deadline", metadata: ["ticket": "\(ticketId)", "error": "\(error)"])
                }
            }
            next = early.values.min()
            var stillDue: [UUID: Handled] = [:]
            // Every due ticket, page by page: tickets handled and waiting for their revisit
            // stay due in the read model, and must not hide the ones after them.
            var cursor: (deadline: Date, ticketId: UUID)?
            pages: while true {
                let page = try await queries.deadlines(dueBy: instant, after: cursor, limit: pageSize)
                var dueOnPage = 0
                for (ticketId, deadline) in page {
                    guard deadline <= instant else {
                        next = min(next ?? deadline, deadline)
                        break
                    }
                    dueOnPage += 1
                    cursor = (deadline, ticketId)
                    if let earlier = handled[ticketId], earlier.deadline == deadline, earlier.revisit.map({ $0 > instant }) ?? true {
                        stillDue[ticketId] = earlier
                        if let revisit = earlier.revisit { next = min(next ?? revisit, revisit) }
                        continue
                    }
                    do {
                        let revisit = try await handle(ticketId, at: instant)
                        stillDue[ticketId] = Handled(deadline: deadline, revisit: revisit)
                        if let revisit { next = min(next ?? revisit, revisit) }
                    } catch {
                        logger.error("could not act on a deadline", metadata: ["ticket": "\(ticketId)", "error": "\(error)"])
                    }
                }
                if dueOnPage < pageSize { break pages }
            }
            handled = stillDue
            var timeout = pollInterval
            if let agreementCheckDue { timeout = min(timeout, agreementCheckDue) }
            // A page of the check follows at once; until the projection has applied the
            // change, its announcement wakes the watcher.
            if recheck?.done == false, recheck?.cursor != nil { timeout = .zero }
            if let next {
                let seconds = next.timeIntervalSince(now())
                timeout = min(timeout, .milliseconds(Int64(max(0, seconds) * 1000) + 1))
            }
            if timeout > .zero { await projectionsChanged.wait(since: seen, timeout: timeout) }
            if ContinuousClock.now - lastSessionCheck > takeoverInterval {
                _ = try await session.query("SELECT 1")  // the lock lives as long as this session
                lastSessionCheck = .now
            }
        }
    }

    /// Everything due on one ticket at `instant`. Returns the ticket's next deadline after
    /// that, as the watcher computes it (nil when it has none, or is no longer active).
    @discardableResult
    func handle(_ ticketId: UUID, at instant: Date) async throws -> Date? {
        guard let set = try await agreements.current() else { return nil }
        let tickets = commands.tickets
        guard let ticket = TicketDecider.fold(try await tickets.events(of: ticketId)), ticket.isActive else { return nil }

        if let lease = ticket.lease, !lease.isActive(at: instant) {
            let expired = try await ignoringRefusal {
                try await commands.execute(.expireLease, on: ticketId, by: .system, at: instant, then: { after in
                    // Expired as often as the agreement allows: routed elsewhere, in the same append.
                    set.rerouteCommand(for: after, load: try await queries.routingLoad(now: instant), at: instant).map { ($0, .system) }
                })
            }
            if expired != nil { leaseExpiries.increment() }
        }
        if ticket.status == .onHold, let until = ticket.hold?.until, until <= instant {
            _ = try await ignoringRefusal { try await commands.execute(.resume, on: ticketId, by: .system, at: instant) }
        }

        let events = try await tickets.events(of: ticketId)
        var acted = false
        for clock in SLAClocks.compute(events: events, agreements: set, asOf: instant) where clock.stoppedAt == nil {
            for alarm in clock.alarms where !alarm.recorded && alarm.at <= instant {
                acted = true
                if let threshold = alarm.threshold {
                    let outcome = try await ignoringRefusal {
                        try await commands.execute(
                            .recordSLAWarning(clockId: clock.id, threshold: threshold, dueAt: clock.dueAt ?? alarm.at),
                            on: ticketId, by: .system, at: instant)
                    }
                    if outcome?.events.isEmpty == false { warnings.increment() }
                } else {
                    try await recordBreach(of: clock, dueAt: alarm.at, on: ticketId, set: set, at: instant)
                }
            }
        }
        // What was recorded moves the ticket's row in the read model, and the watcher looks
        // again at its new deadline. Otherwise, the ticket's next deadline with the agreements
        // in force.
        guard !acted, let next = Self.nextDeadline(events, agreements: set, at: instant) else { return nil }
        // Still due (an action the domain refused, the ticket having moved on meanwhile):
        // looked at again after the poll interval, not in a loop.
        return next > instant ? next : instant.addingTimeInterval(retryDelay)
    }

    /// How long after a deadline that could not be acted on the watcher tries again: the
    /// poll interval.
    private var retryDelay: TimeInterval {
        Double(pollInterval.components.seconds) + Double(pollInterval.components.attoseconds) / 1e18
    }

    /// The ticket's next deadline with the agreements in force, when it comes before
    /// `readModel` (the read model's, nil for none); nil otherwise.
    private func soonerDeadline(_ ticketId: UUID, than readModel: Date?, at instant: Date) async throws -> Date? {
        guard let set = try await agreements.current(),
            let next = Self.nextDeadline(try await commands.tickets.events(of: ticketId), agreements: set, at: instant),
            next < readModel ?? .distantFuture
        else { return nil }
        return next
    }

    /// When the watcher must next act on the ticket of `events`, with `agreements`.
    private static func nextDeadline(_ events: [Stamped<TicketEvent>], agreements: AgreementSet, at instant: Date) -> Date? {
        TicketDecider.fold(events)?.nextDeadline(clocks: SLAClocks.compute(events: events, agreements: agreements, asOf: instant))
    }

    /// Records a breach and applies the breach clause of the clock's agreement: a move to
    /// another queue in the same append, then an escalation.
    private func recordBreach(of clock: SLAClock, dueAt: Date, on ticketId: UUID, set: AgreementSet, at instant: Date) async throws {
        var clause: BreachClause?
        if case .assignment(_, let placement) = clock.level, let id = placement.agreementId,
            let agreement = set.agreement(id: id, version: placement.agreementVersion ?? 1)
        {
            clause = agreement.breachClauses.first { $0.clock == clock.kind }
        }
        let outcome = try await ignoringRefusal {
            try await commands.execute(.recordSLABreach(clockId: clock.id, dueAt: dueAt), on: ticketId, by: .system, at: instant, then: { after in
                guard let queue = clause?.moveToQueue, after.assignment?.placement.queue != queue else { return nil }
                let placement = set.placement(inQueue: queue, at: instant) ?? QueueAssignment(queue: queue)
                return (.reassign(placement, reason: "\(clock.id) breached; moved by the agreement's breach clause"), .system)
            })
        }
        guard let outcome, !outcome.events.isEmpty else { return }
        breaches.increment()
        if clause?.escalate == true {
            _ = try await ignoringRefusal {
                try await commands.execute(.escalate(reason: "\(clock.id) breached (due \(dueAt.formatted(.iso8601)))"), on: ticketId, by: .system, at: instant)
            }
        }
    }

    /// Runs a command; the domain refusing it (the ticket moved on meanwhile) is not an error.
    private func ignoringRefusal(_ body: () async throws -> TicketCommands.Outcome) async throws -> TicketCommands.Outcome? {
        do {
            return try await body()
        } catch let refusal as TicketError {
            logger.debug("deadline action refused: \(refusal)")
            return nil
        }
    }
}
