// Benchmarks for BatonDomain's hot paths. Build and run with:
//
//     swift run -c release baton-domain-bench
//
// Each figure is the best of several rounds (the machine is shared), measured with
// ContinuousClock. A checksum is printed so the optimiser cannot drop the work.

import BatonDomain
import Foundation

let clock = ContinuousClock()
var checksum = 0.0

func nanoseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
}

/// Best-of-`rounds` nanoseconds per call of `body`, which performs `calls` calls.
@MainActor func measure(rounds: Int = 5, calls: Int, _ body: () -> Double) -> Double {
    var best = Double.infinity
    for _ in 0..<rounds {
        var sink = 0.0
        let d = clock.measure { sink = body() }
        checksum += sink
        best = min(best, nanoseconds(d) / Double(calls))
    }
    return best
}

func report(_ label: String, _ ns: Double, unit: String = "ns") {
    let value = unit == "µs" ? ns / 1000 : ns
    print(label.padding(toLength: 64, withPad: " ", startingAt: 0) + String(format: "%10.2f %@/call", value, unit))
}

// MARK: Calendar

let chicago = TimeZone(identifier: "America/Chicago")!
func date(_ s: String) -> LocalDate { LocalDate(s)! }
let holidays: [Holiday] = [
    Holiday("New Year's Day", on: date("2026-01-01")), Holiday("MLK Day", on: date("2026-01-19")),
    Holiday("Presidents' Day", on: date("2026-02-16")), Holiday("Memorial Day", on: date("2026-05-25")),
    Holiday("Juneteenth", on: date("2026-06-19")), Holiday("Independence Day", on: date("2026-07-03")),
    Holiday("Labor Day", on: date("2026-09-07")), Holiday("Veterans Day", on: date("2026-11-11")),
    Holiday("Thanksgiving", from: date("2026-11-26"), through: date("2026-11-27")),
    Holiday("Winter closure", from: date("2026-12-24"), through: date("2027-01-01")),
    Holiday("MLK Day", on: date("2027-01-18")), Holiday("Presidents' Day", on: date("2027-02-15")),
]
let hours = WeeklyHours.same([OpeningInterval("07:30-12:00")!, OpeningInterval("13:00-17:30")!], on: WeeklyHours.workingDays)!
let calendar = BusinessCalendar(timeZone: chicago, weeklyHours: hours, holidays: holidays)

// Starts spread over 2026 (crossing both DST changes); a fixed LCG keeps runs comparable.
var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
@MainActor func nextRandom() -> UInt64 {
    seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return seed >> 11
}
let yearStart = calendar.instant(on: date("2026-01-01"), at: LocalTime(hour: 0)!)
let starts: [Date] = (0..<1024).map { _ in yearStart.addingTimeInterval(Double(nextRandom() % (300 * 86_400))) }
let ninetyDays = 90.0 * 86_400
// About 90 calendar days of business time: ~62 working days of 8.5 h.
let ninetyDaysOfBusiness = 62.0 * 8.5 * 3600

print("BatonDomain benchmarks (release build, best of 5 rounds)")
print("Calendar: Mon–Fri 07:30–12:00 + 13:00–17:30 America/Chicago, \(holidays.count) holidays; spans of ~90 days")
print("")

let nsAdd = measure(calls: starts.count * 20) {
    var s = 0.0
    for _ in 0..<20 { for a in starts { s += calendar.add(ninetyDaysOfBusiness, to: a).timeIntervalSince1970 } }
    return s
}
report("BusinessCalendar.add (~90-day span)", nsAdd)

let nsBT = measure(calls: starts.count * 20) {
    var s = 0.0
    for _ in 0..<20 { for a in starts { s += calendar.businessTime(from: a, to: a.addingTimeInterval(ninetyDays)) } }
    return s
}
report("BusinessCalendar.businessTime (90-day span)", nsBT)

// Baseline 1: a per-minute loop (what the design forbids), over a short 7-day span.
let sevenDays = 7.0 * 86_400
let shortStarts = Array(starts.prefix(64))
let nsNaiveMinute = measure(rounds: 3, calls: shortStarts.count) {
    var s = 0.0
    for a in shortStarts {
        var t = a
        let end = a.addingTimeInterval(sevenDays)
        while t < end {
            if calendar.isOpen(at: t) { s += 60 }
            t = t.addingTimeInterval(60)
        }
    }
    return s
}
let nsFast7 = measure(calls: shortStarts.count * 50) {
    var s = 0.0
    for _ in 0..<50 { for a in shortStarts { s += calendar.businessTime(from: a, to: a.addingTimeInterval(sevenDays)) } }
    return s
}
report("businessTime, 7-day span", nsFast7)
report("  baseline: per-minute isOpen loop, 7-day span", nsNaiveMinute)
print(String(format: "  ratio: %.0fx faster", nsNaiveMinute / nsFast7))

// Baseline 2: a per-day loop that asks Foundation's Calendar for each day's boundaries.
let gregorian: Calendar = {
    var c = Calendar(identifier: .gregorian)
    c.timeZone = chicago
    return c
}()
let holidaySet = Set(holidays.flatMap { h -> [String] in
    var out: [String] = []
    var d = h.from
    while d <= h.through { out.append(d.description); d = d.adding(days: 1) }
    return out
})
@MainActor func foundationBusinessTime(from a: Date, to b: Date) -> Double {
    var total = 0.0
    var day = gregorian.startOfDay(for: a)
    while day < b {
        let c = gregorian.dateComponents([.year, .month, .day, .weekday], from: day)
        let key = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        if (2...6).contains(c.weekday!) && !holidaySet.contains(key) {
            for (sh, sm, eh, em) in [(7, 30, 12, 0), (13, 0, 17, 30)] {
                let s = gregorian.date(bySettingHour: sh, minute: sm, second: 0, of: day)!
                let e = gregorian.date(bySettingHour: eh, minute: em, second: 0, of: day)!
                let lo = max(s, a), hi = min(e, b)
                if hi > lo { total += hi.timeIntervalSince(lo) }
            }
        }
        day = gregorian.date(byAdding: .day, value: 1, to: day)!
    }
    return total
}
let nsFoundation = measure(rounds: 3, calls: 64) {
    var s = 0.0
    for a in starts.prefix(64) { s += foundationBusinessTime(from: a, to: a.addingTimeInterval(ninetyDays)) }
    return s
}
// Same answers, so the comparison is fair.
for a in starts.prefix(64) {
    let fast = calendar.businessTime(from: a, to: a.addingTimeInterval(ninetyDays))
    let slow = foundationBusinessTime(from: a, to: a.addingTimeInterval(ninetyDays))
    precondition(fast == slow, "baseline disagrees at \(a): \(fast) vs \(slow)")
}
report("  baseline: per-day loop over Foundation Calendar, 90 days", nsFoundation)
print(String(format: "  ratio vs businessTime (90 days): %.0fx faster", nsFoundation / nsBT))
print("")

// MARK: Routing

let categories = TicketCategory.allCases
let sites = ["city-hall", "public-safety", "library-main", "library-east", "parks-yard", "water-plant", "airport", "courts"]
let allHours = BusinessCalendar.twentyFourSeven(timeZone: chicago)
let targets: [Priority: ServiceTargets] = Dictionary(uniqueKeysWithValues: Priority.allCases.map {
    ($0, ServiceTargets(firstResponse: SLADuration("30m")!, resolution: SLADuration("8bh")!))
})
let start2026 = calendar.instant(on: date("2026-01-01"), at: LocalTime(hour: 0)!)
let agreements: [Agreement] = (0..<200).map { i in
    let vendor = i % 3 != 0
    return Agreement(
        id: String(format: "agreement-%03d", i / 2), name: "Agreement \(i)", kind: vendor ? .vendor : .inHouse,
        vendorId: vendor ? "vendor-\(i % 17)" : nil, version: i % 2 + 1,
        effectiveFrom: start2026.addingTimeInterval(Double(i % 2) * 180 * 86_400),
        effectiveTo: i % 2 == 0 ? start2026.addingTimeInterval(180 * 86_400) : nil,
        queues: ["queue-\(i)", "queue-\(i)-b"],
        coverage: Coverage(categories: [categories[i % categories.count], categories[(i + 3) % categories.count]],
                           sites: i % 4 == 0 ? [] : Set(sites.shuffled().prefix(4))),
        serviceLevel: ServiceLevelTerms(calendar: i % 2 == 0 ? calendar : allHours, targets: targets),
        takesTicketsOutsideHours: i % 5 == 0, precedence: (i * 7) % 50,
        caps: VolumeCaps(maxOpenTickets: 100 + i, maxNewTicketsPerMonth: i % 3 == 0 ? 500 : nil))
}
let load = RoutingLoad(
    openTickets: Dictionary(uniqueKeysWithValues: (0..<100).map { (String(format: "agreement-%03d", $0), Int(nextRandom() % 150)) }),
    newTicketsThisMonth: Dictionary(uniqueKeysWithValues: (0..<100).map { (String(format: "agreement-%03d", $0), Int(nextRandom() % 600)) }))
let decider = TicketDecider()
let tickets: [Ticket] = (0..<64).map { i in
    let d = TicketDetails(source: "bench", requester: "r\(i)", site: sites[i % sites.count], department: "d",
                          category: categories[i % categories.count], impact: .medium, urgency: .medium, subject: "s")
    let open = OpenTicket(ticketId: UUID(), number: "T-\(i)", details: d)
    let e = try! decider.decide(.open(open), state: nil, by: .system, at: start2026)
    return TicketDecider.fold(e)!
}
let routeTimes = starts.prefix(64).map { $0.addingTimeInterval(Double(nextRandom() % (200 * 86_400))) }

let nsRoute = measure(calls: tickets.count * 20) {
    var s = 0.0
    for _ in 0..<20 {
        for (t, when) in zip(tickets, routeTimes) {
            s += Double(route(t, agreements: agreements, load: load, at: when, defaultQueue: "service-desk").considerations.count)
        }
    }
    return s
}
print("Routing: 200 agreement versions (100 ids × 2 versions), mixed calendars, caps and coverage")
report("route (decision with structured trace)", nsRoute, unit: "µs")
let nsRouteText = measure(calls: tickets.count * 5) {
    var s = 0.0
    for _ in 0..<5 {
        for (t, when) in zip(tickets, routeTimes) {
            s += Double(route(t, agreements: agreements, load: load, at: when, defaultQueue: "service-desk").traceLines.count)
        }
    }
    return s
}
report("route + English trace lines for the TicketRouted event", nsRouteText, unit: "µs")
print("")
print("checksum \(checksum)")
