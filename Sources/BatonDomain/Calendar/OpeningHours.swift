import Foundation

/// A wall-clock time of day, minute precision, `00:00`…`24:00`.
///
/// `24:00` is allowed so that an interval can run to the end of the day.
public struct LocalTime: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Seconds since local midnight, 0…86 400.
    public let secondsSinceMidnight: Int

    /// Creates a time; returns nil outside `00:00`…`24:00`.
    public init?(hour: Int, minute: Int = 0) {
        guard (0...24).contains(hour), (0...59).contains(minute), hour < 24 || minute == 0 else { return nil }
        secondsSinceMidnight = hour * 3600 + minute * 60
    }

    /// Parses `H:MM` or `HH:MM`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
            let h = Int(parts[0]), let m = Int(parts[1])
        else { return nil }
        self.init(hour: h, minute: m)
    }

    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool {
        lhs.secondsSinceMidnight < rhs.secondsSinceMidnight
    }

    public var description: String {
        let h = secondsSinceMidnight / 3600
        let m = (secondsSinceMidnight % 3600) / 60
        return (h < 10 ? "0\(h)" : "\(h)") + ":" + (m < 10 ? "0\(m)" : "\(m)")
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = LocalTime(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "\(text) is not a time; use HH:MM"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// One opening interval within a day, e.g. `08:00-17:00` (start inclusive, end exclusive).
///
/// Encoded as the string `HH:MM-HH:MM`.
public struct OpeningInterval: Hashable, Sendable, Codable, CustomStringConvertible {
    /// When the interval opens.
    public let start: LocalTime
    /// When the interval closes; later than `start`.
    public let end: LocalTime

    /// Creates an interval; returns nil unless `start < end`.
    public init?(start: LocalTime, end: LocalTime) {
        guard start < end else { return nil }
        self.start = start
        self.end = end
    }

    /// Parses `HH:MM-HH:MM`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2,
            let s = LocalTime(parts[0].trimmingCharacters(in: .whitespaces)),
            let e = LocalTime(parts[1].trimmingCharacters(in: .whitespaces))
        else { return nil }
        self.init(start: s, end: e)
    }

    public var description: String { "\(start)-\(end)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = OpeningInterval(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath,
                      debugDescription: "\(text) is not an opening interval; use HH:MM-HH:MM"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Weekly opening hours: for each weekday, zero or more non-overlapping intervals.
public struct WeeklyHours: Hashable, Sendable, Codable {
    /// The intervals per weekday; a missing weekday is closed all day.
    public private(set) var days: [Weekday: [OpeningInterval]]

    /// Creates weekly hours; intervals are sorted. Returns nil if two intervals of a day overlap.
    public init?(_ days: [Weekday: [OpeningInterval]]) {
        var sorted: [Weekday: [OpeningInterval]] = [:]
        for (day, intervals) in days where !intervals.isEmpty {
            let s = intervals.sorted { $0.start < $1.start }
            for i in s.indices.dropFirst() where s[i].start < s[i - 1].end { return nil }
            sorted[day] = s
        }
        self.days = sorted
    }

    /// The same intervals on each of the given days, e.g. Monday–Friday 08:00–17:00.
    public static func same(_ intervals: [OpeningInterval], on weekdays: [Weekday]) -> WeeklyHours? {
        WeeklyHours(Dictionary(uniqueKeysWithValues: weekdays.map { ($0, intervals) }))
    }

    /// Monday to Friday.
    public static let workingDays: [Weekday] = [.monday, .tuesday, .wednesday, .thursday, .friday]

    /// Nominal open seconds on a weekday (ignoring DST).
    public func openSeconds(on day: Weekday) -> Int {
        (days[day] ?? []).reduce(0) { $0 + $1.end.secondsSinceMidnight - $1.start.secondsSinceMidnight }
    }

    public init(from decoder: any Decoder) throws {
        let raw = try [String: [OpeningInterval]](from: decoder)
        var days: [Weekday: [OpeningInterval]] = [:]
        for (key, value) in raw {
            guard let day = Weekday(rawValue: key) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "\(key) is not a weekday"))
            }
            days[day] = value
        }
        guard let value = WeeklyHours(days) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "opening intervals overlap"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var raw: [String: [OpeningInterval]] = [:]
        for (k, v) in days { raw[k.rawValue] = v }
        try raw.encode(to: encoder)
    }
}

/// A holiday: one date or an inclusive range of dates on which the calendar is closed.
public struct Holiday: Hashable, Sendable, Codable {
    /// A name for people, e.g. "Thanksgiving".
    public var name: String
    /// The first closed date.
    public var from: LocalDate
    /// The last closed date (inclusive); equal to `from` for a one-day holiday.
    public var through: LocalDate

    /// A one-day holiday.
    public init(_ name: String, on date: LocalDate) {
        self.name = name
        from = date
        through = date
    }

    /// A holiday range, inclusive.
    public init(_ name: String, from: LocalDate, through: LocalDate) {
        self.name = name
        self.from = from
        self.through = max(from, through)
    }

    enum CodingKeys: String, CodingKey { case name, from, through }

    /// Decodes like the memberwise initialiser: a `through` before `from` becomes `from`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try c.decode(String.self, forKey: .name), from: try c.decode(LocalDate.self, forKey: .from),
                  through: try c.decode(LocalDate.self, forKey: .through))
    }
}
