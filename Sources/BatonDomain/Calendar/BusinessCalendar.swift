import Foundation

/// When the business is open: an IANA time zone, weekly opening hours and holidays — or 24×7.
///
/// `add(_:to:)` and `businessTime(from:to:)` are exact across daylight-saving changes (an
/// interval that spans a change counts the real elapsed time) and cost O(days spanned). The
/// value is cheap to copy: the precomputed tables are shared.
public struct BusinessCalendar: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The IANA time zone in which opening hours and holidays are read.
    public let timeZone: TimeZone
    /// Opening hours, or nil for 24×7.
    public let weeklyHours: WeeklyHours?
    /// Closed dates.
    public let holidays: [Holiday]
    /// The length of one business day (`1bd`), in business seconds.
    ///
    /// Defaults to the longest opening of any weekday (9 hours for 08:00–17:00), and 24 hours for 24×7.
    public let businessDayLength: TimeInterval

    let compiled: Compiled

    /// Whether this calendar is open around the clock (no hours, no holidays).
    public var isTwentyFourSeven: Bool { weeklyHours == nil && holidays.isEmpty }

    /// A calendar that is always open, in the given time zone (UTC by default).
    public static func twentyFourSeven(timeZone: TimeZone = TimeZone(identifier: "UTC")!) -> BusinessCalendar {
        BusinessCalendar(timeZone: timeZone, weeklyHours: nil, holidays: [])
    }

    /// Creates a calendar. With `weeklyHours == nil` every day is open 00:00–24:00 (holidays still close).
    public init(
        timeZone: TimeZone, weeklyHours: WeeklyHours?, holidays: [Holiday] = [],
        businessDayLength: TimeInterval? = nil
    ) {
        self.timeZone = timeZone
        self.weeklyHours = weeklyHours
        self.holidays = holidays
        let longest = weeklyHours.map { w in Weekday.allCases.map { w.openSeconds(on: $0) }.max() ?? 0 } ?? 86_400
        self.businessDayLength = businessDayLength ?? TimeInterval(longest)
        compiled = Compiled(timeZone: timeZone, weeklyHours: weeklyHours, holidays: holidays)
    }

    public var description: String {
        if isTwentyFourSeven { return "24x7 (\(timeZone.identifier))" }
        guard let w = weeklyHours else { return "all days, \(timeZone.identifier), \(holidays.count) holidays" }
        let days = Weekday.allCases.compactMap { d in
            w.days[d].map { "\(d.rawValue.prefix(3)) \($0.map(\.description).joined(separator: ","))" }
        }
        return "\(days.joined(separator: "; ")) (\(timeZone.identifier)), \(holidays.count) holidays"
    }

    // MARK: Arithmetic

    /// The instant at which `duration` seconds of business time have elapsed after `instant`.
    ///
    /// If `instant` is outside opening hours the count starts at the next opening. When the
    /// duration is used up exactly at a closing time, the closing time is returned (the
    /// earliest such instant). A zero or negative duration returns `instant`. Returns
    /// `Date.distantFuture` if the calendar never opens again within ten years.
    public func add(_ duration: TimeInterval, to instant: Date) -> Date {
        guard duration > 0 else { return instant }
        if compiled.alwaysOpen { return instant.addingTimeInterval(duration) }
        return compiled.add(duration, to: instant.timeIntervalSince1970)
    }

    /// The business time between two instants, in seconds; negative if `end` is before `start`.
    public func businessTime(from start: Date, to end: Date) -> TimeInterval {
        let a = start.timeIntervalSince1970
        let b = end.timeIntervalSince1970
        if b < a { return -businessTime(from: end, to: start) }
        if compiled.alwaysOpen { return b - a }
        return compiled.businessTime(a, b)
    }

    /// Whether the calendar is open at the instant.
    public func isOpen(at instant: Date) -> Bool {
        if compiled.alwaysOpen { return true }
        return compiled.isOpen(instant.timeIntervalSince1970)
    }

    /// The local date (in the calendar's time zone) of an instant.
    public func localDate(of instant: Date) -> LocalDate {
        let u = instant.timeIntervalSince1970
        let l = u + Double(compiled.zone.offset(atUTC: u))
        return LocalDate(dayNumber: Int((l / 86_400).rounded(.down)))
    }

    /// The instant of a wall-clock time on a local date (first occurrence if ambiguous).
    public func instant(on date: LocalDate, at time: LocalTime) -> Date {
        Date(timeIntervalSince1970: Double(compiled.zone.utc(fromLocal: date.dayNumber * 86_400 + time.secondsSinceMidnight)))
    }

    // MARK: Hashable / Codable (on the definition only)

    public static func == (lhs: BusinessCalendar, rhs: BusinessCalendar) -> Bool {
        lhs.timeZone.identifier == rhs.timeZone.identifier && lhs.weeklyHours == rhs.weeklyHours
            && lhs.holidays == rhs.holidays && lhs.businessDayLength == rhs.businessDayLength
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(timeZone.identifier)
        hasher.combine(weeklyHours)
        hasher.combine(holidays)
    }

    enum CodingKeys: String, CodingKey { case timeZone, weeklyHours, holidays, businessDayLength }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let id = try c.decode(String.self, forKey: .timeZone)
        guard let tz = TimeZone(identifier: id) else {
            throw DecodingError.dataCorruptedError(forKey: .timeZone, in: c, debugDescription: "unknown time zone \(id)")
        }
        self.init(
            timeZone: tz,
            weeklyHours: try c.decodeIfPresent(WeeklyHours.self, forKey: .weeklyHours),
            holidays: try c.decodeIfPresent([Holiday].self, forKey: .holidays) ?? [],
            businessDayLength: try c.decodeIfPresent(TimeInterval.self, forKey: .businessDayLength))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(timeZone.identifier, forKey: .timeZone)
        try c.encodeIfPresent(weeklyHours, forKey: .weeklyHours)
        if !holidays.isEmpty { try c.encode(holidays, forKey: .holidays) }
        try c.encode(businessDayLength, forKey: .businessDayLength)
    }
}

extension BusinessCalendar {
    /// The compiled form: integer tables walked day by day. Immutable, hence `Sendable`.
    final class Compiled: Sendable {
        let zone: TimeZoneOffsets
        /// Per weekday (Monday = 0), flattened `[start, end, start, end, …]` in seconds since midnight.
        let week: [[Int]]
        /// Closed local day numbers, ascending.
        let closedDays: [Int]
        let alwaysOpen: Bool
        static let maxDays = 3_660

        init(timeZone: TimeZone, weeklyHours: WeeklyHours?, holidays: [Holiday]) {
            zone = TimeZoneOffsets.table(for: timeZone)
            if let w = weeklyHours {
                week = Weekday.allCases.map { d in
                    (w.days[d] ?? []).flatMap { [$0.start.secondsSinceMidnight, $0.end.secondsSinceMidnight] }
                }
            } else {
                week = Array(repeating: [0, 86_400], count: 7)
            }
            var closed = Set<Int>()
            // `from` and `through` are public vars: a reversed range closes only `from`, never traps.
            for h in holidays {
                for n in h.from.dayNumber...max(h.from.dayNumber, h.through.dayNumber) { closed.insert(n) }
            }
            closedDays = closed.sorted()
            alwaysOpen = weeklyHours == nil && holidays.isEmpty
        }

        /// First index in `closedDays` with a value >= day.
        @inline(__always)
        func holidayIndex(from day: Int) -> Int {
            var lo = 0
            var hi = closedDays.count
            while lo < hi {
                let mid = (lo + hi) >> 1
                if closedDays[mid] < day { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }

        @inline(__always)
        func localDay(ofUTC u: Double) -> (day: Int, segment: Int) {
            let seg = zone.segment(atUTC: Int(u.rounded(.down)))
            let l = Int(u.rounded(.down)) + zone.offsets[seg]
            return (floorDiv(l, 86_400), seg)
        }

        /// Walks the open intervals from the local day containing `from`, calling `body` with
        /// each interval's UTC bounds until it returns false.
        @inline(__always)
        func forEachInterval(from: Double, until: Double = .infinity, _ body: (Double, Double) -> Bool) {
            var (day, seg) = localDay(ofUTC: from)
            var h = holidayIndex(from: day)
            let zone = self.zone
            for _ in 0..<Compiled.maxDays {
                // No local day starting more than 14 h after `until` can hold an instant before it.
                if Double(day * 86_400 - 50_400) > until { return }
                while h < closedDays.count && closedDays[h] < day { h += 1 }
                if h < closedDays.count && closedDays[h] == day {
                    day += 1
                    continue
                }
                let intervals = week[weekdayIndex(ofDay: day)]
                if !intervals.isEmpty {
                    let dayStart = day * 86_400
                    while seg + 1 < zone.offsets.count && zone.safeLocalStart[seg + 1] <= dayStart { seg += 1 }
                    let fast = zone.safeLocalStart[seg] <= dayStart && dayStart + 86_400 <= zone.safeLocalEnd[seg]
                    let o = zone.offsets[seg]
                    var i = 0
                    var previousEnd = Int.min
                    while i < intervals.count {
                        var s: Int
                        var e: Int
                        if fast {
                            s = dayStart + intervals[i] - o
                            e = dayStart + intervals[i + 1] - o
                        } else {
                            s = zone.utc(fromLocal: dayStart + intervals[i])
                            e = zone.utc(fromLocal: dayStart + intervals[i + 1])
                            s = max(s, previousEnd)
                            e = max(e, s)
                        }
                        previousEnd = e
                        if !body(Double(s), Double(e)) { return }
                        i += 2
                    }
                }
                day += 1
            }
        }

        func add(_ duration: Double, to t: Double) -> Date {
            var remaining = duration
            var result = Date.distantFuture
            forEachInterval(from: t) { s, e in
                let a = max(s, t)
                guard e > a else { return true }
                let len = e - a
                if len >= remaining {
                    result = Date(timeIntervalSince1970: a + remaining)
                    return false
                }
                remaining -= len
                return true
            }
            return result
        }

        func businessTime(_ a: Double, _ b: Double) -> Double {
            var total = 0.0
            forEachInterval(from: a, until: b) { s, e in
                if s >= b { return false }
                let lo = max(s, a)
                let hi = min(e, b)
                if hi > lo { total += hi - lo }
                return true
            }
            return total
        }

        /// Walks the same intervals as `add` and `businessTime`, so that the repeated hour of an
        /// autumn change counts as open exactly when they count it.
        func isOpen(_ u: Double) -> Bool {
            var open = false
            forEachInterval(from: u, until: u) { s, e in
                if s > u { return false }
                if u < e { open = true; return false }
                return true
            }
            return open
        }
    }
}
