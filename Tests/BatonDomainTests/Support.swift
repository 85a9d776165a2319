import Foundation
@testable import BatonDomain

let chicago = TimeZone(identifier: "America/Chicago")!
let berlin = TimeZone(identifier: "Europe/Berlin")!

/// An instant given as wall-clock time in a zone (first occurrence if ambiguous).
func at(_ y: Int, _ m: Int, _ d: Int, _ h: Int, _ min: Int = 0, in tz: TimeZone = chicago) -> Date {
    var c = Calendar(identifier: .gregorian)
    c.timeZone = tz
    return c.date(from: DateComponents(year: y, month: m, day: d, hour: h, minute: min))!
}

let nineToFive = OpeningInterval(start: LocalTime(hour: 8)!, end: LocalTime(hour: 17)!)!

/// Monday–Friday 08:00–17:00 in a zone, with holidays.
func officeHours(_ tz: TimeZone = chicago, holidays: [Holiday] = []) -> BusinessCalendar {
    BusinessCalendar(
        timeZone: tz, weeklyHours: .same([nineToFive], on: WeeklyHours.workingDays)!, holidays: holidays)
}

extension TimeInterval {
    static func hours(_ h: Double) -> TimeInterval { h * 3600 }
    static func minutes(_ m: Double) -> TimeInterval { m * 60 }
}
