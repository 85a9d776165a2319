import Foundation

/// A target duration from an agreement: calendar time (`4h`, `30m`, `2d`) or business time
/// (`8bh`, `30bm`, `3bd`), measured against the agreement's business calendar.
///
/// Components can be combined within one basis (`1h30m`, `1bd4bh`). Encoded as that text.
public struct SLADuration: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Whether the duration counts every second or only business time.
    public enum Basis: String, Hashable, Sendable, Codable {
        /// Wall-clock time: every second counts (except paused time).
        case calendar
        /// Only the calendar's opening hours count.
        case business
    }

    /// The basis.
    public let basis: Basis
    /// Seconds of calendar time, or of business time not counting `businessDays`.
    public let seconds: Int
    /// Whole business days (`bd`); each is worth the calendar's `businessDayLength`.
    public let businessDays: Int

    /// A calendar-time duration.
    public static func calendar(hours: Int = 0, minutes: Int = 0) -> SLADuration {
        SLADuration(basis: .calendar, seconds: hours * 3600 + minutes * 60, businessDays: 0)
    }

    /// A business-time duration.
    public static func business(days: Int = 0, hours: Int = 0, minutes: Int = 0) -> SLADuration {
        SLADuration(basis: .business, seconds: hours * 3600 + minutes * 60, businessDays: days)
    }

    init(basis: Basis, seconds: Int, businessDays: Int) {
        self.basis = basis
        self.seconds = seconds
        self.businessDays = businessDays
    }

    /// The accepted forms, for error messages.
    public static let accepted = "use 4h, 30m, 3bd"

    /// Parses `4h`, `30m`, `2d`, `90s`, `8bh`, `30bm`, `3bd`, or combinations of one basis
    /// (`1h30m`, `1bd4bh`). Returns nil for anything else, including a zero duration.
    public init?(_ text: String) {
        let chars = Array(text.trimmingCharacters(in: .whitespaces).lowercased())
        guard !chars.isEmpty else { return nil }
        var i = 0
        var calendarSeconds = 0
        var businessSeconds = 0
        var days = 0
        var sawCalendar = false
        var sawBusiness = false
        while i < chars.count {
            var digits = ""
            while i < chars.count, chars[i].isASCII, chars[i].isNumber {
                digits.append(chars[i])
                i += 1
            }
            var unit = ""
            while i < chars.count, chars[i].isLetter {
                unit.append(chars[i])
                i += 1
            }
            guard let n = Int(digits), digits.count <= 6 else { return nil }
            switch unit {
            case "s": calendarSeconds += n; sawCalendar = true
            case "m": calendarSeconds += n * 60; sawCalendar = true
            case "h": calendarSeconds += n * 3600; sawCalendar = true
            case "d": calendarSeconds += n * 86_400; sawCalendar = true
            case "bm": businessSeconds += n * 60; sawBusiness = true
            case "bh": businessSeconds += n * 3600; sawBusiness = true
            case "bd": days += n; sawBusiness = true
            default: return nil
            }
        }
        guard sawCalendar != sawBusiness else { return nil }
        if sawCalendar {
            guard calendarSeconds > 0 else { return nil }
            self.init(basis: .calendar, seconds: calendarSeconds, businessDays: 0)
        } else {
            guard businessSeconds > 0 || days > 0 else { return nil }
            self.init(basis: .business, seconds: businessSeconds, businessDays: days)
        }
    }

    /// The duration in seconds of its basis, given the calendar that defines a business day.
    public func seconds(in calendar: BusinessCalendar) -> TimeInterval {
        TimeInterval(seconds) + TimeInterval(businessDays) * calendar.businessDayLength
    }

    /// The calendar the duration is measured in: `calendar` for business time, 24×7 otherwise.
    public func measuringCalendar(_ calendar: BusinessCalendar) -> BusinessCalendar {
        basis == .business ? calendar : .twentyFourSeven(timeZone: calendar.timeZone)
    }

    /// Scales the duration (used for warning thresholds); the result is in plain seconds of its basis.
    public func scaled(by factor: Double, in calendar: BusinessCalendar) -> TimeInterval {
        seconds(in: calendar) * factor
    }

    public var description: String {
        var out = ""
        var rest = seconds
        if basis == .business {
            if businessDays > 0 { out += "\(businessDays)bd" }
            if rest / 3600 > 0 { out += "\(rest / 3600)bh" }
            rest %= 3600
            if rest / 60 > 0 { out += "\(rest / 60)bm" }
            return out
        }
        if rest % 86_400 == 0 { return "\(rest / 86_400)d" }
        if rest / 3600 > 0 { out += "\(rest / 3600)h" }
        rest %= 3600
        if rest / 60 > 0 { out += "\(rest / 60)m" }
        rest %= 60
        if rest > 0 { out += "\(rest)s" }
        return out
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = SLADuration(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath,
                      debugDescription: "\"\(text)\" is not a duration; \(SLADuration.accepted)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
