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

    @Test("Several intervals per day: lunch break is not business time")
    func lunchBreak() {
        let morning = OpeningInterval("08:00-12:00")!
        let afternoon = OpeningInterval("13:00-17:00")!
        let c = BusinessCalendar(timeZone: chicago, weeklyHours: .same([morning, afternoon], on: WeeklyHours.workingDays)!)
        #expect(c.add(.hours(4.5), to: at(2026, 3, 10, 8)) == at(2026, 3, 10, 13, 30))
        #expect(c.businessDayLength == .hours(8))
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
