import Foundation

/// One SLA clock of a ticket as of an instant: what it measures, when it started, its pauses,
/// when it is due, how much business time it has used, and whether it was met or breached.
///
/// Built by ``SLAClocks/compute(events:agreements:asOf:)``.
public struct SLAClock: Sendable, Hashable, Identifiable {
    /// Whose promise the clock measures.
    public enum Level: Sendable, Hashable {
        /// The customer-facing SLA, from the ticket's creation.
        case customer
        /// The OLA/UC of the `sequence`-th assignment (1-based), from the moment the ticket entered that queue.
        case assignment(sequence: Int, QueueAssignment)
    }

    /// Why a clock does not count for a while.
    public enum PauseReason: Sendable, Hashable {
        /// A hold whose reason the agreement lists.
        case hold(HoldReason)
        /// The ticket was resolved and later reopened.
        case resolved
    }

    /// A span in which the clock did not run; `to == nil` while it still lasts.
    public struct Pause: Sendable, Hashable {
        /// Start.
        public var from: Date
        /// End, nil while paused.
        public var to: Date?
        /// Why.
        public var reason: PauseReason
    }

    /// How a clock stopped.
    public enum StopReason: String, Sendable, Hashable {
        /// What the clock measured happened (accepted, resolved).
        case fulfilled
        /// The ticket left the assignment's queue before that.
        case handedOver
        /// The ticket was cancelled.
        case cancelled
    }

    /// The clock's state as of `asOf`.
    public enum Status: String, Sendable, Hashable {
        /// Running and not yet due.
        case running
        /// Paused and not yet breached.
        case paused
        /// Fulfilled on or before the due instant.
        case met
        /// The due instant passed before it was fulfilled (or before hand-over).
        case breached
        /// The ticket left the queue before the due instant.
        case handedOver
        /// The ticket was cancelled before the due instant.
        case cancelled
    }

    /// A warning or breach instant, and whether the SLA watcher already recorded it.
    public struct Alarm: Sendable, Hashable {
        /// The fraction of the target, nil for the breach itself.
        public var threshold: Double?
        /// When it falls due.
        public var at: Date
        /// Whether a `SLAWarningReached`/`SLABreached` event already records it.
        public var recorded: Bool
    }

    /// A stable id within the ticket, e.g. `customer/resolution` or `assignment-2/first-response`.
    public var id: String
    /// What it measures.
    public var kind: SLAClockKind
    /// Whose promise.
    public var level: Level
    /// The priority whose target applies (the priority in force, or at the stop).
    public var priority: Priority
    /// The target.
    public var target: SLADuration
    /// The calendar the target is measured in (24×7 for calendar-time targets).
    public var calendar: BusinessCalendar
    /// When it started.
    public var startedAt: Date
    /// Pauses, in order.
    public var pauses: [Pause]
    /// When it stopped, if it did.
    public var stoppedAt: Date?
    /// Why it stopped.
    public var stopReason: StopReason?
    /// The instant this state describes.
    public var asOf: Date
    /// When the target is used up, given the pauses so far; nil while paused (see `projectedDueAt`).
    public var dueAt: Date?
    /// While paused: the due instant if the clock resumed at `asOf`.
    public var projectedDueAt: Date?
    /// Time counted so far, in seconds of the target's basis.
    public var elapsed: TimeInterval
    /// The target in seconds of its basis.
    public var targetSeconds: TimeInterval
    /// Warning instants and the breach instant.
    public var alarms: [Alarm]
    /// The state as of `asOf`.
    public var status: Status

    /// Whether the clock is (or was) breached.
    public var isBreached: Bool { status == .breached }
    /// Whether the clock has stopped.
    public var isStopped: Bool { stoppedAt != nil }
    /// The agreement id, for assignment clocks.
    public var agreementId: String? {
        if case .assignment(_, let a) = level { return a.agreementId }
        return nil
    }
    /// The next alarm the SLA watcher has not recorded yet, if the clock still runs.
    public var nextUnrecordedAlarm: Alarm? {
        guard stoppedAt == nil, dueAt != nil else { return nil }
        return alarms.first { !$0.recorded }
    }

    /// The instant at which `amount` seconds of the measuring calendar have run, counting from
    /// `start` and skipping `pauses`; nil if that lies beyond a pause that has not ended.
    static func instant(consuming amount: TimeInterval, start: Date, pauses: [Pause], calendar: BusinessCalendar) -> Date? {
        var remaining = amount
        var segmentStart = start
        for p in pauses {
            if p.from > segmentStart {
                let run = calendar.businessTime(from: segmentStart, to: p.from)
                if run >= remaining { return calendar.add(remaining, to: segmentStart) }
                remaining -= run
            }
            guard let to = p.to else { return nil }
            segmentStart = max(segmentStart, to)
        }
        return calendar.add(remaining, to: segmentStart)
    }

    /// Time run between `start` and `end`, skipping pauses.
    static func running(start: Date, end: Date, pauses: [Pause], calendar: BusinessCalendar) -> TimeInterval {
        var total = 0.0
        var segmentStart = start
        for p in pauses {
            let segmentEnd = min(p.from, end)
            if segmentEnd > segmentStart { total += calendar.businessTime(from: segmentStart, to: segmentEnd) }
            guard let to = p.to else { return total }
            segmentStart = max(segmentStart, to)
            if segmentStart >= end { return total }
        }
        if end > segmentStart { total += calendar.businessTime(from: segmentStart, to: end) }
        return total
    }
}
