import Foundation
import PropertyBased
import Testing
@testable import BatonDomain

@Suite("Business calendar")
struct BusinessCalendarTests {
    let cal = officeHours()

    @Test("P2 opened Friday 16:30, 8 business hours, Mon–Fri 08:00–17:00 Chicago, is due Monday 15:30")
    func fridayAfternoonRollsToMonday() {
        let due = cal.add(.hours(8), to: at(2026, 3, 6, 16, 30))
        #expect(due == at(2026, 3, 9, 15, 30))
    }

    @Test("Ticket opened Saturday starts counting at Monday 08:00")
    func weekendStartsMonday() {
        #expect(cal.add(.hours(1), to: at(2026, 3, 7, 11)) == at(2026, 3, 9, 9))
    }

    @Test("A duration used up exactly at closing time is due at closing time, not next morning")
    func endsAtClosing() {
        #expect(cal.add(.hours(9), to: at(2026, 3, 9, 8)) == at(2026, 3, 9, 17))
    }

    @Test("Across the spring-forward weekend in Chicago business hours are unaffected")
    func springForwardChicago() {
        // DST starts Sunday 2026-03-08 02:00 in Chicago.
        #expect(cal.add(.hours(1), to: at(2026, 3, 6, 16, 30)) == at(2026, 3, 9, 8, 30))
        #expect(cal.businessTime(from: at(2026, 3, 6, 8), to: at(2026, 3, 9, 17)) == .hours(18))
    }

    @Test("A 24-hour calendar counts 23 real hours on the spring-forward day in Berlin")
    func allDayCalendarSpringForwardBerlin() {
        let allDay = OpeningInterval(start: LocalTime(hour: 0)!, end: LocalTime(hour: 24)!)!
        let c = BusinessCalendar(timeZone: berlin, weeklyHours: .same([allDay], on: Weekday.allCases)!)
        // DST starts Sunday 2026-03-29 in Berlin: that local day has 23 hours.
        #expect(c.businessTime(from: at(2026, 3, 29, 0, in: berlin), to: at(2026, 3, 30, 0, in: berlin)) == .hours(23))
        #expect(c.add(.hours(24), to: at(2026, 3, 29, 0, in: berlin)) == at(2026, 3, 30, 1, in: berlin))
        // DST ends Sunday 2026-10-25: 25 hours.
        #expect(c.businessTime(from: at(2026, 10, 25, 0, in: berlin), to: at(2026, 10, 26, 0, in: berlin)) == .hours(25))
    }

    @Test("Night shift 00:00–04:00 on the Chicago fall-back day is five real hours")
    func nightShiftFallBack() {
        let night = OpeningInterval(start: LocalTime(hour: 0)!, end: LocalTime(hour: 4)!)!
        let c = BusinessCalendar(timeZone: chicago, weeklyHours: .same([night], on: Weekday.allCases)!)
        // DST ends Sunday 2026-11-01 02:00 CDT -> 01:00 CST.
        #expect(c.businessTime(from: at(2026, 11, 1, 0), to: at(2026, 11, 1, 12)) == .hours(5))
        // Spring forward: 00:00–04:00 on 2026-03-08 is three real hours.
        #expect(c.businessTime(from: at(2026, 3, 8, 0), to: at(2026, 3, 8, 12)) == .hours(3))
    }

    @Test("Holidays, single dates and ranges, are skipped")
    func holidaysSkipped() {
        let c = officeHours(holidays: [
            Holiday("Thanksgiving", from: LocalDate("2026-11-26")!, through: LocalDate("2026-11-27")!),
            Holiday("Christmas", on: LocalDate("2026-12-25")!),
        ])
        // Wednesday 16:00 + 2bh: 1h Wednesday, Thu+Fri closed, weekend, Monday 09:00.
        #expect(c.add(.hours(2), to: at(2026, 11, 25, 16)) == at(2026, 11, 30, 9))
        #expect(c.businessTime(from: at(2026, 12, 24, 8), to: at(2026, 12, 28, 17)) == .hours(18))
        #expect(!c.isOpen(at: at(2026, 12, 25, 10)))
        #expect(c.isOpen(at: at(2026, 12, 24, 10)))
        #expect(!c.isOpen(at: at(2026, 12, 24, 17)))
    }

    @Test("A holiday range over the spring-forward weekend is skipped; the next day opens on local time")
    func holidayAcrossSpringForward() {
        // Closed Friday 2026-03-06 through Monday 2026-03-09; DST starts Sunday 03-08 in Chicago.
        let c = officeHours(holidays: [Holiday("Spring break", from: LocalDate("2026-03-06")!, through: LocalDate("2026-03-09")!)])
        #expect(c.add(.hours(1), to: at(2026, 3, 5, 16, 30)) == at(2026, 3, 10, 8, 30))
        #expect(c.businessTime(from: at(2026, 3, 5, 8), to: at(2026, 3, 10, 17)) == .hours(18))
        #expect(!c.isOpen(at: at(2026, 3, 9, 10)))
        #expect(c.isOpen(at: at(2026, 3, 10, 8)))
    }

    @Test("A holiday range over the fall-back weekend in Berlin is skipped")
    func holidayAcrossFallBackBerlin() {
        // DST ends Sunday 2026-10-25 in Berlin; closed Friday 10-23 through Monday 10-26.
        let c = officeHours(berlin, holidays: [Holiday("Herbst", from: LocalDate("2026-10-23")!, through: LocalDate("2026-10-26")!)])
        #expect(c.add(.hours(2), to: at(2026, 10, 22, 16, in: berlin)) == at(2026, 10, 27, 9, in: berlin))
        #expect(c.businessTime(from: at(2026, 10, 22, 12, in: berlin), to: at(2026, 10, 27, 12, in: berlin)) == .hours(9))
    }

    @Test("A holiday whose dates are reversed (decoded from stored JSON) closes nothing instead of crashing")
    func reversedHolidayDoesNotCrash() throws {
        let json = #"{"timeZone":"America/Chicago","holidays":[{"name":"typo","from":"2026-12-26","through":"2026-12-24"}],"businessDayLength":86400}"#
        let c = try JSONDecoder().decode(BusinessCalendar.self, from: Data(json.utf8))
        #expect(c.holidays.allSatisfy { $0.from <= $0.through })
        #expect(!c.isOpen(at: at(2026, 12, 26, 10)))
        #expect(c.isOpen(at: at(2026, 12, 24, 10)))
    }

    @Test("On the Chicago fall-back night an opening 01:30–02:30 stays open through the repeated hour")
    func isOpenThroughRepeatedHour() {
        let c = BusinessCalendar(timeZone: chicago, weeklyHours: .same([OpeningInterval("01:30-02:30")!], on: Weekday.allCases)!)
        // From the first 01:30 (CDT, 06:30 UTC) to 02:30 CST (08:30 UTC): two real hours.
        let start = at(2026, 11, 1, 0)
        #expect(c.businessTime(from: start, to: start.addingTimeInterval(.hours(12))) == .hours(2))
        let firstOneThirty = Date(timeIntervalSince1970: 1_793_514_600)  // 2026-11-01T06:30:00Z
        #expect(c.isOpen(at: firstOneThirty.addingTimeInterval(.minutes(45))))  // 01:15 CST, the second time round
        var openMinutes = 0.0
        for k in 0..<(12 * 60) where c.isOpen(at: start.addingTimeInterval(Double(k) * 60)) { openMinutes += 60 }
        #expect(openMinutes == .hours(2))
    }

    @Test("Several intervals per day: lunch break is not business time")
    func lunchBreak() {
        let morning = OpeningInterval("08:00-12:00")!
        let afternoon = OpeningInterval("13:00-17:00")!
        let c = BusinessCalendar(timeZone: chicago, weeklyHours: .same([morning, afternoon], on: WeeklyHours.workingDays)!)
        #expect(c.add(.hours(4.5), to: at(2026, 3, 10, 8)) == at(2026, 3, 10, 13, 30))
        #expect(c.businessDayLength == .hours(8))
    }

    @Test("Opening and closing instants: open from the opening second, closed at the closing second, open at a seam")
    func boundaries() {
        let c = BusinessCalendar(timeZone: chicago, weeklyHours: .same([OpeningInterval("08:00-12:00")!, OpeningInterval("12:00-17:00")!],
                                                                       on: WeeklyHours.workingDays)!)
        #expect(!c.isOpen(at: at(2026, 3, 10, 8).addingTimeInterval(-0.001)))
        #expect(c.isOpen(at: at(2026, 3, 10, 8)))
        #expect(c.isOpen(at: at(2026, 3, 10, 12)))
        #expect(!c.isOpen(at: at(2026, 3, 10, 17)))
        // Starting at closing time counts from the next opening; starting at opening counts at once.
        #expect(c.add(.minutes(1), to: at(2026, 3, 10, 17)) == at(2026, 3, 11, 8, 1))
        #expect(c.add(.minutes(1), to: at(2026, 3, 10, 8)) == at(2026, 3, 10, 8, 1))
        // Used up exactly at the seam: the seam, not later.
        #expect(c.add(.hours(4), to: at(2026, 3, 10, 8)) == at(2026, 3, 10, 12))
        #expect(c.businessTime(from: at(2026, 3, 10, 17), to: at(2026, 3, 11, 8)) == 0)
    }

    @Test("24x7 calendar is plain elapsed time")
    func twentyFourSeven() {
        let c = BusinessCalendar.twentyFourSeven(timeZone: chicago)
        let a = at(2026, 3, 7, 23)
        #expect(c.add(.hours(5), to: a) == a.addingTimeInterval(.hours(5)))
        #expect(c.businessTime(from: a, to: a.addingTimeInterval(100)) == 100)
        #expect(c.isOpen(at: a))
    }

    @Test("businessTime is antisymmetric and zero on an empty span")
    func antisymmetric() {
        let a = at(2026, 3, 6, 9), b = at(2026, 3, 10, 11)
        #expect(cal.businessTime(from: b, to: a) == -cal.businessTime(from: a, to: b))
        #expect(cal.businessTime(from: a, to: a) == 0)
    }

    @Test("Calendar round-trips through JSON")
    func codable() throws {
        let c = officeHours(holidays: [Holiday("Christmas", on: LocalDate("2026-12-25")!)])
        let data = try JSONEncoder().encode(c)
        #expect(try JSONDecoder().decode(BusinessCalendar.self, from: data) == c)
    }

    // MARK: Properties

    static let base = at(2026, 1, 1, 0).timeIntervalSince1970
    static let calendars: [BusinessCalendar] = [
        officeHours(chicago, holidays: [Holiday("Memorial Day", on: LocalDate("2026-05-25")!),
                                        Holiday("Winter break", from: LocalDate("2026-12-24")!, through: LocalDate("2027-01-01")!)]),
        officeHours(berlin, holidays: [Holiday("Ostern", from: LocalDate("2026-04-03")!, through: LocalDate("2026-04-06")!)]),
        BusinessCalendar(timeZone: berlin, weeklyHours: .same([OpeningInterval("00:00-24:00")!], on: Weekday.allCases)!),
        BusinessCalendar(timeZone: chicago, weeklyHours: .same([OpeningInterval("01:30-02:30")!, OpeningInterval("22:00-24:00")!], on: Weekday.allCases)!),
    ]
    /// Whole seconds within 2026–2027, which crosses every DST change of both zones twice.
    static let instants = Gen.int(in: 0...(2 * 365 * 86_400)).map { Date(timeIntervalSince1970: base + Double($0)) }
    static let durations = Gen.int(in: 1...(60 * 86_400))
    static let calendarIndex = Gen.int(in: 0...3)

    @Test("businessTime(a, add(d, a)) == d")
    func addThenMeasure() async {
        await propertyCheck(count: 400, input: Self.instants, Self.durations, Self.calendarIndex) { a, d, i in
            let c = Self.calendars[i]
            #expect(c.businessTime(from: a, to: c.add(TimeInterval(d), to: a)) == TimeInterval(d))
        }
    }

    @Test("add is monotonic in the duration")
    func monotonic() async {
        await propertyCheck(count: 400, input: Self.instants, Self.durations, Self.durations, Self.calendarIndex) { a, d1, d2, i in
            let c = Self.calendars[i]
            let (lo, hi) = (min(d1, d2), max(d1, d2))
            #expect(c.add(TimeInterval(lo), to: a) <= c.add(TimeInterval(hi), to: a))
        }
    }

    @Test("businessTime is additive over a split point and never exceeds elapsed time")
    func additive() async {
        await propertyCheck(count: 400, input: Self.instants, Self.durations, Self.durations, Self.calendarIndex) { a, x, y, i in
            let c = Self.calendars[i]
            let m = a.addingTimeInterval(TimeInterval(x)), b = m.addingTimeInterval(TimeInterval(y))
            let whole = c.businessTime(from: a, to: b)
            #expect(whole == c.businessTime(from: a, to: m) + c.businessTime(from: m, to: b))
            #expect(whole <= b.timeIntervalSince(a))
        }
    }

    @Test("The instant returned by add is never on a holiday and is open or a closing time")
    func addLandsInOpenTime() async {
        await propertyCheck(count: 300, input: Self.instants, Self.durations, Gen.int(in: 0...1)) { a, d, i in
            let c = Self.calendars[i]
            let due = c.add(TimeInterval(d), to: a)
            // Just before the due instant the calendar is open.
            #expect(c.isOpen(at: due.addingTimeInterval(-0.5)))
            #expect(!c.holidays.contains { h in (h.from...h.through).contains(c.localDate(of: due.addingTimeInterval(-0.5))) })
        }
    }

    /// An oracle that shares no code with the calendar: Foundation turns each minute into wall time,
    /// and the calendar counts as open when the furthest wall time reached so far that local day
    /// lies in an opening interval (after an autumn change the wall clock repeats an hour, and the
    /// business stays as it was when the clock first got there; a skipped spring hour never opens).
    static func oracleOpenSeconds(_ c: BusinessCalendar, from a: Date, minutes: Int) -> Double {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = c.timeZone
        var open = 0.0
        var lastDate: LocalDate?
        var furthest = 0
        for k in -180..<minutes {
            let u = a.addingTimeInterval(Double(k) * 60)
            let w = cal.dateComponents([.year, .month, .day, .hour, .minute], from: u)
            let date = LocalDate(year: w.year!, month: w.month!, day: w.day!)!
            let minute = w.hour! * 60 + w.minute!
            furthest = date == lastDate ? max(furthest, minute) : minute
            lastDate = date
            guard k >= 0, !c.holidays.contains(where: { ($0.from...$0.through).contains(date) }) else { continue }
            let intervals = c.weeklyHours.map { $0.days[date.weekday] ?? [] } ?? [OpeningInterval("00:00-24:00")!]
            if intervals.contains(where: { $0.start.secondsSinceMidnight / 60 <= furthest && furthest < $0.end.secondsSinceMidnight / 60 }) {
                open += 60
            }
        }
        return open
    }

    @Test("Around every DST change of 2026–2027 in Chicago and Berlin, business time matches a wall-clock oracle",
          arguments: 0..<4)
    func matchesOracleAroundDSTChanges(calendarIndex: Int) {
        let c = Self.calendars[calendarIndex]
        let changes = TimeZoneOffsets.table(for: c.timeZone).transitions.filter {
            $0 >= Int(at(2026, 1, 1, 0).timeIntervalSince1970) && $0 < Int(at(2028, 1, 1, 0).timeIntervalSince1970)
        }
        #expect(changes.count == 4)
        for change in changes {
            let a = Date(timeIntervalSince1970: Double(change - 2 * 86_400 + 7 * 60))
            let minutes = 4 * 24 * 60
            #expect(c.businessTime(from: a, to: a.addingTimeInterval(Double(minutes) * 60)) == Self.oracleOpenSeconds(c, from: a, minutes: minutes),
                    "around \(Date(timeIntervalSince1970: Double(change)))")
        }
    }

    @Test("No business time is counted on a holiday, and add steps over it")
    func holidaysAreSkipped() async {
        // Calendar 0: Memorial Day 2026-05-25 and the winter break 2026-12-24 … 2027-01-01, Chicago.
        let c = Self.calendars[0]
        let days = [LocalDate("2026-05-25")!] + (0...8).map { LocalDate("2026-12-24")!.adding(days: $0) }
        await propertyCheck(count: 200, input: Gen.int(in: 0...(days.count - 1)), Gen.int(in: 0...86_399), Gen.int(in: 1...86_400)) { d, from, length in
            let midnight = c.instant(on: days[d], at: LocalTime(hour: 0)!)
            let nextMidnight = c.instant(on: days[d].adding(days: 1), at: LocalTime(hour: 0)!)
            let a = min(midnight.addingTimeInterval(TimeInterval(from)), nextMidnight)
            let b = min(a.addingTimeInterval(TimeInterval(length)), nextMidnight)
            #expect(c.businessTime(from: a, to: b) == 0)
            #expect(!c.isOpen(at: a))
            #expect(c.add(1, to: a) > nextMidnight)
        }
    }

    @Test("Matches a naive per-minute count on short spans")
    func matchesNaive() async {
        await propertyCheck(count: 60, input: Self.instants.map { Date(timeIntervalSince1970: ($0.timeIntervalSince1970 / 60).rounded(.down) * 60) },
                            Gen.int(in: 1...(4 * 24 * 60)), Self.calendarIndex) { a, minutes, i in
            let c = Self.calendars[i]
            var naive = 0.0
            for k in 0..<minutes where c.isOpen(at: a.addingTimeInterval(Double(k) * 60)) { naive += 60 }
            #expect(c.businessTime(from: a, to: a.addingTimeInterval(Double(minutes) * 60)) == naive)
        }
    }
}

@Suite("SLA durations")
struct SLADurationTests {
    @Test("Parses calendar and business durations", arguments: [
        ("4h", SLADuration.calendar(hours: 4)), ("30m", .calendar(minutes: 30)), ("1h30m", .calendar(hours: 1, minutes: 30)),
        ("8bh", .business(hours: 8)), ("3bd", .business(days: 3)), ("1bd4bh", .business(days: 1, hours: 4)),
    ])
    func parses(text: String, expected: SLADuration) {
        #expect(SLADuration(text) == expected)
        #expect(SLADuration(expected.description) == expected)
    }

    @Test("Rejects malformed durations", arguments: ["4 hrs", "", "h", "0h", "4h2bh", "4x", "-3h", "3.5h"])
    func rejects(text: String) {
        #expect(SLADuration(text) == nil)
    }

    @Test("3bd on Mon–Fri 08:00–17:00 is 27 business hours")
    func businessDays() {
        #expect(SLADuration("3bd")!.seconds(in: officeHours()) == .hours(27))
    }
}
