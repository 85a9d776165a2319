import Foundation

/// First-response and resolution targets for one priority.
public struct ServiceTargets: Codable, Sendable, Hashable {
    /// Time to first response (acceptance).
    public var firstResponse: SLADuration
    /// Time to resolution.
    public var resolution: SLADuration
    /// Creates targets.
    public init(firstResponse: SLADuration, resolution: SLADuration) {
        self.firstResponse = firstResponse
        self.resolution = resolution
    }
    /// The target for a clock kind.
    public subscript(kind: SLAClockKind) -> SLADuration {
        kind == .firstResponse ? firstResponse : resolution
    }
}

/// The clock-related terms shared by the customer SLA and by every OLA/UC agreement.
public struct ServiceLevelTerms: Codable, Sendable, Hashable {
    /// The name of the calendar in the agreements file, for people (e.g. `city-hall-hours`).
    public var calendarName: String?
    /// The business calendar business-time targets are measured in.
    public var calendar: BusinessCalendar
    /// Targets per priority. A priority with no targets has no clocks.
    public var targets: [Priority: ServiceTargets]
    /// Fractions of a target at which warnings are raised, ascending, each in (0, 1).
    public var warningThresholds: [Double]
    /// Hold reasons that pause these clocks.
    public var pausesOn: Set<HoldReason>

    /// Creates terms.
    public init(
        calendarName: String? = nil, calendar: BusinessCalendar, targets: [Priority: ServiceTargets],
        warningThresholds: [Double] = [0.5, 0.75], pausesOn: Set<HoldReason> = [.awaitingCustomer]
    ) {
        self.calendarName = calendarName
        self.calendar = calendar
        self.targets = targets
        self.warningThresholds = warningThresholds.sorted()
        self.pausesOn = pausesOn
    }

    enum CodingKeys: String, CodingKey { case calendarName, calendar, targets, warningThresholds, pausesOn }

    /// Hold reasons are written sorted, so the same terms always encode to the same bytes.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(calendarName, forKey: .calendarName)
        try c.encode(calendar, forKey: .calendar)
        try c.encode(targets, forKey: .targets)
        try c.encode(warningThresholds, forKey: .warningThresholds)
        try c.encode(pausesOn.map(\.rawValue).sorted(), forKey: .pausesOn)
    }
}
