import Foundation

/// Computes every SLA clock of a ticket from its events. This is what projections and the SLA
/// watcher call.
public enum SLAClocks {
    /// The clocks of one ticket as of `asOf`.
    ///
    /// - The customer SLA's first-response and resolution clocks run from the `TicketOpened`
    ///   event with `agreements.customerSLA`'s targets.
    /// - Each `TicketRouted`/`TicketReassigned` to a queue under an agreement starts that
    ///   assignment's OLA/UC clocks with the agreement version named in the event; leaving the
    ///   queue (re-route, reassignment, rejection) ends them (`handedOver`); the customer clocks
    ///   run on.
    /// - Holds pause the clocks whose terms list the hold reason.
    /// - First response stops at acceptance (or resolution); resolution at resolution. A
    ///   reopened ticket's resolution clocks resume; the resolved span is paused time.
    /// - A priority change recomputes each running clock's target from its start, keeping
    ///   paused time.
    /// - Events after `asOf` are ignored. Clocks for a priority with no target are omitted;
    ///   so are assignment clocks whose agreement version is unknown (see `unknownAgreements`).
    public static func compute(events: [Stamped<TicketEvent>], agreements: AgreementSet, asOf: Date) -> [SLAClock] {
        computeWithDiagnostics(events: events, agreements: agreements, asOf: asOf).clocks
    }

    /// Like `compute`, also naming assignments whose agreement version was not found.
    public static func computeWithDiagnostics(
        events: [Stamped<TicketEvent>], agreements: AgreementSet, asOf: Date
    ) -> (clocks: [SLAClock], unknownAgreements: [QueueAssignment]) {
        var builders: [Builder] = []
        var unknown: [QueueAssignment] = []
        var assignments = 0
        var currentAssignment: [Int] = []  // builder indices of the current assignment's clocks
        var customer: [Int] = []
        var priority = Priority.p3
        var alarms: [String: [Double?]] = [:]

        func startAssignment(_ placement: QueueAssignment, at: Date) {
            for i in currentAssignment { builders[i].stop(at: at, .handedOver) }
            currentAssignment = []
            guard let id = placement.agreementId else { return }
            assignments += 1
            guard let a = agreements.agreement(id: id, version: placement.agreementVersion ?? 1) else {
                unknown.append(placement)
                return
            }
            for kind in SLAClockKind.allCases {
                builders.append(Builder(
                    id: "assignment-\(assignments)/\(kind.rawValue)", kind: kind,
                    level: .assignment(sequence: assignments, placement), terms: a.serviceLevel, start: at, priority: priority))
                currentAssignment.append(builders.count - 1)
            }
        }

        for stamped in events where stamped.occurredAt <= asOf {
            let at = stamped.occurredAt
            switch stamped.event {
            case .opened(let e):
                priority = e.priority
                for kind in SLAClockKind.allCases {
                    builders.append(Builder(
                        id: "customer/\(kind.rawValue)", kind: kind, level: .customer, terms: agreements.customerSLA,
                        start: at, priority: priority))
                    customer.append(builders.count - 1)
                }
            case .routed(let e):
                startAssignment(e.assignment, at: at)
            case .reassigned(let e):
                startAssignment(e.assignment, at: at)
            case .rejected:
                for i in currentAssignment { builders[i].stop(at: at, .handedOver) }
                currentAssignment = []
            case .accepted:
                for i in customer + currentAssignment where builders[i].kind == .firstResponse {
                    builders[i].stop(at: at, .fulfilled)
                }
            case .putOnHold(let e):
                for i in builders.indices where builders[i].terms.pausesOn.contains(e.reason) {
                    builders[i].pause(at: at, .hold(e.reason))
                }
            case .resumed:
                for i in builders.indices { builders[i].resume(at: at) }
            case .priorityChanged(let e):
                priority = e.to
                for i in builders.indices where builders[i].stoppedAt == nil { builders[i].priority = e.to }
            case .resolved:
                for i in builders.indices { builders[i].resume(at: at) }
                for i in customer + currentAssignment { builders[i].stop(at: at, .fulfilled) }
            case .reopened:
                for i in customer + currentAssignment where builders[i].kind == .resolution {
                    builders[i].reopen(at: at)
                }
            case .cancelled:
                for i in builders.indices {
                    builders[i].resume(at: at)
                    builders[i].stop(at: at, .cancelled)
                }
            case .slaWarningReached(let e):
                alarms[e.clockId, default: []].append(e.threshold)
            case .slaBreached(let e):
                alarms[e.clockId, default: []].append(nil)
            case .leased, .leaseReleased, .leaseExpired, .workStarted, .commentAdded, .escalated, .closed:
                break
            }
        }
        let clocks = builders.compactMap { $0.clock(asOf: asOf, recorded: alarms[$0.id] ?? []) }
        return (clocks, unknown)
    }

    /// The earliest alarm (warning or breach) among `clocks` that the SLA watcher has not
    /// recorded yet, with its clock: the watcher sleeps until `alarm.at`, then appends
    /// `recordSLAWarning`/`recordSLABreach` for it.
    public static func nextAlarm(in clocks: [SLAClock]) -> (clock: SLAClock, alarm: SLAClock.Alarm)? {
        var best: (clock: SLAClock, alarm: SLAClock.Alarm)?
        for c in clocks {
            guard let a = c.nextUnrecordedAlarm else { continue }
            if best == nil || a.at < best!.alarm.at { best = (c, a) }
        }
        return best
    }

    struct Builder {
        let id: String
        let kind: SLAClockKind
        let level: SLAClock.Level
        let terms: ServiceLevelTerms
        let start: Date
        var priority: Priority
        var pauses: [SLAClock.Pause] = []
        var stoppedAt: Date?
        var stopReason: SLAClock.StopReason?

        init(id: String, kind: SLAClockKind, level: SLAClock.Level, terms: ServiceLevelTerms, start: Date, priority: Priority) {
            self.id = id; self.kind = kind; self.level = level; self.terms = terms; self.start = start; self.priority = priority
        }

        var isPaused: Bool { pauses.last.map { $0.to == nil } ?? false }

        mutating func pause(at: Date, _ reason: SLAClock.PauseReason) {
            guard stoppedAt == nil, !isPaused else { return }
            pauses.append(.init(from: at, to: nil, reason: reason))
        }

        mutating func resume(at: Date) {
            guard stoppedAt == nil, isPaused else { return }
            pauses[pauses.count - 1].to = at
        }

        mutating func stop(at: Date, _ reason: SLAClock.StopReason) {
            guard stoppedAt == nil else { return }
            resume(at: at)
            stoppedAt = at
            stopReason = reason
        }

        mutating func reopen(at: Date) {
            guard let s = stoppedAt, stopReason == .fulfilled else { return }
            pauses.append(.init(from: s, to: at, reason: .resolved))
            stoppedAt = nil
            stopReason = nil
        }

        func clock(asOf: Date, recorded: [Double?]) -> SLAClock? {
            guard let targets = terms.targets[priority] else { return nil }
            let target = targets[kind]
            let calendar = target.measuringCalendar(terms.calendar)
            let amount = target.seconds(in: terms.calendar)
            let due = SLAClock.instant(consuming: amount, start: start, pauses: pauses, calendar: calendar)
            let end = min(stoppedAt ?? asOf, asOf)
            let elapsed = SLAClock.running(start: start, end: end, pauses: pauses, calendar: calendar)
            var projected: Date?
            if due == nil { projected = calendar.add(max(0, amount - elapsed), to: asOf) }

            var alarms: [SLAClock.Alarm] = []
            for t in terms.warningThresholds {
                if let w = SLAClock.instant(consuming: amount * t, start: start, pauses: pauses, calendar: calendar) {
                    alarms.append(.init(threshold: t, at: w, recorded: recorded.contains(t)))
                }
            }
            if let due { alarms.append(.init(threshold: nil, at: due, recorded: recorded.contains(nil))) }

            let status: SLAClock.Status
            if let stop = stoppedAt, stop <= asOf {
                if let due, stop > due {
                    status = .breached
                } else {
                    switch stopReason ?? .fulfilled {
                    case .fulfilled: status = .met
                    case .handedOver: status = .handedOver
                    case .cancelled: status = .cancelled
                    }
                }
            } else if let due, due < asOf {
                status = .breached
            } else {
                status = isPaused ? .paused : .running
            }
            return SLAClock(
                id: id, kind: kind, level: level, priority: priority, target: target, calendar: calendar,
                startedAt: start, pauses: pauses, stoppedAt: stoppedAt, stopReason: stopReason, asOf: asOf, dueAt: due,
                projectedDueAt: projected, elapsed: elapsed, targetSeconds: amount, alarms: alarms, status: status)
        }
    }
}

extension Ticket {
    /// The earliest instant at which the SLA watcher must act on the ticket, given its
    /// `clocks`: an alarm not recorded yet, the end of its lease, the end of its hold; nil
    /// for a ticket that is no longer active.
    public func nextDeadline(clocks: [SLAClock]) -> Date? {
        guard isActive else { return nil }
        var instants: [Date] = []
        if let alarm = SLAClocks.nextAlarm(in: clocks) { instants.append(alarm.alarm.at) }
        if let lease { instants.append(lease.expiresAt) }
        if status == .onHold, let until = hold?.until { instants.append(until) }
        return instants.min()
    }
}
