import Foundation

/// A date without a time or a time zone, such as a holiday (`2026-12-25`).
///
/// Encoded as the ISO 8601 string `YYYY-MM-DD`.
public struct LocalDate: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The year, e.g. 2026.
    public let year: Int
    /// The month, 1–12.
    public let month: Int
    /// The day of the month, 1–31.
    public let day: Int

    /// Creates a date; returns nil if the date does not exist (e.g. 2026-02-30).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        let n = daysFromCivil(year: year, month: month, day: day)
        let back = civilFromDays(n)
        guard back.year == year, back.month == month, back.day == day else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`; returns nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    init(dayNumber: Int) {
        let c = civilFromDays(dayNumber)
        year = c.year
        month = c.month
        day = c.day
    }

    /// Days since 1970-01-01.
    var dayNumber: Int { daysFromCivil(year: year, month: month, day: day) }

    /// The day of the week.
    public var weekday: Weekday { Weekday.allCases[weekdayIndex(ofDay: dayNumber)] }

    /// The date `count` days later (or earlier, if negative).
    public func adding(days count: Int) -> LocalDate { LocalDate(dayNumber: dayNumber + count) }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public var description: String {
        let y = String(year)
        let m = month < 10 ? "0\(month)" : "\(month)"
        let d = day < 10 ? "0\(day)" : "\(day)"
        return "\(String(repeating: "0", count: max(0, 4 - y.count)))\(y)-\(m)-\(d)"
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = LocalDate(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "\(text) is not a date; use YYYY-MM-DD"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A day of the week.
public enum Weekday: String, CaseIterable, Codable, Sendable, Hashable {
    case monday, tuesday, wednesday, thursday, friday, saturday, sunday
}
