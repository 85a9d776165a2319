import BatonDomain
import Foundation
import Yams

/// Loads and validates an agreements YAML file (see `deploy/examples/agreements.yaml`).
///
/// Every problem is reported, each with its path in the file and its line, e.g.
/// `agreements[2].targets.P1.resolution: "4 hrs" is not a duration; use 4h, 30m, 3bd (line 48)`.
public enum AgreementsFile {
    /// Reads and validates the file at `url`.
    public static func load(contentsOf url: URL) throws(AgreementsFileError) -> AgreementSet {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw AgreementsFileError(file: url.path, problems: [
                ValidationProblem(path: "", message: "cannot read the file: \(error.localizedDescription)")
            ])
        }
        return try parse(text, file: url.path)
    }

    /// Parses and validates YAML text. `file` only names the source in the error.
    public static func parse(_ yaml: String, file: String? = nil) throws(AgreementsFileError) -> AgreementSet {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw AgreementsFileError(file: file, problems: [ValidationProblem(path: "", message: "not valid YAML: \(error)")])
        } catch {
            throw AgreementsFileError(file: file, problems: [ValidationProblem(path: "", message: "not valid YAML: \(error)")])
        }
        let log = ProblemLog()
        guard let root else {
            throw AgreementsFileError(file: file, problems: [ValidationProblem(path: "", message: "the file is empty")])
        }
        let set = readFile(YAMLReader(node: root, path: "", log: log))
        var problems = log.problems
        if let set, problems.isEmpty { problems += set.validate() }
        guard let set, problems.isEmpty else { throw AgreementsFileError(file: file, problems: problems) }
        return set
    }

    // MARK: Reading

    static func readFile(_ r: YAMLReader) -> AgreementSet? {
        guard let top = r.mapping(allowed: ["defaultQueue", "priorityMatrix", "calendars", "customerSLA", "agreements"]) else {
            return nil
        }
        let defaultQueue = (top["defaultQueue"] ?? r.child("defaultQueue", nil)).required("the in-house fallback queue")?.string()
        let matrix = top["priorityMatrix"].flatMap { $0.isPresent ? readMatrix($0) : nil }
        var calendars: [String: BusinessCalendar] = [:]
        var invalidCalendars: Set<String> = []
        if let cals = top["calendars"]?.mapping() {
            for (name, c) in cals.sorted(by: { $0.key < $1.key }) {
                if let cal = readCalendar(c) { calendars[name] = cal } else { invalidCalendars.insert(name) }
            }
        }
        let sla = (top["customerSLA"] ?? r.child("customerSLA", nil)).required("the customer-facing targets")
            .flatMap { readSLA($0, calendars: calendars, invalid: invalidCalendars) }
        var agreements: [Agreement] = []
        var readAgreements: [(index: Int, agreement: Agreement, reader: YAMLReader)] = []
        var agreementsOK = true
        if let list = (top["agreements"] ?? r.child("agreements", nil)).required("a list of agreements")?.sequence() {
            for (i, item) in list.enumerated() {
                if let a = readAgreement(item, calendars: calendars, invalid: invalidCalendars) {
                    agreements.append(a)
                    readAgreements.append((i, a, item))
                } else { agreementsOK = false }
            }
        }
        let matrixOK = top["priorityMatrix"]?.isPresent != true || matrix != nil
        guard let defaultQueue, let sla, agreementsOK, matrixOK else {
            // The file cannot be used, but the parts that did read are checked too, so that one
            // run reports every problem (`AgreementSet.validate` does this for a complete file).
            if let sla, let node = top["customerSLA"] {
                for p in sla.validate(at: "customerSLA") { r.log.add(p.path, p.message, node.node) }
            }
            for entry in readAgreements {
                for p in entry.agreement.validate(at: "agreements[\(entry.index)]") { r.log.add(p.path, p.message, entry.reader.node) }
            }
            return nil
        }
        return AgreementSet(customerSLA: sla, defaultQueue: defaultQueue, priorityMatrix: matrix ?? .itil, agreements: agreements)
    }

    static func readMatrix(_ r: YAMLReader) -> PriorityMatrix? {
        guard let rows = r.mapping(allowed: Impact.allCases.map(\.rawValue)) else { return nil }
        var cells: [Impact: [Urgency: Priority]] = [:]
        for impact in Impact.allCases {
            guard let row = rows[impact.rawValue]?.mapping(allowed: Urgency.allCases.map(\.rawValue)) else {
                r.child(impact.rawValue, nil).problem("is required: a row per impact (high, medium, low)")
                continue
            }
            for urgency in Urgency.allCases {
                guard let cell = row[urgency.rawValue] else {
                    r.child(impact.rawValue, nil).child(urgency.rawValue, nil).problem("is required (P1–P5)")
                    continue
                }
                if let p = cell.oneOf(Priority.self) { cells[impact, default: [:]][urgency] = p }
            }
        }
        return PriorityMatrix(cells)
    }

    static func readCalendar(_ r: YAMLReader) -> BusinessCalendar? {
        guard let m = r.mapping(allowed: ["timeZone", "hours", "twentyFourSeven", "holidays", "businessDay"]) else { return nil }
        var ok = true
        var tz: TimeZone?
        if let id = (m["timeZone"] ?? r.child("timeZone", nil)).required("an IANA time zone such as America/Chicago")?.string() {
            tz = TimeZone(identifier: id)
            if tz == nil { m["timeZone"]!.problem("\"\(id)\" is not an IANA time zone (e.g. America/Chicago)") }
        }
        let allDay = m["twentyFourSeven"]?.bool() ?? false
        var hours: WeeklyHours?
        if let h = m["hours"], h.isPresent {
            if allDay { h.problem("a 24x7 calendar has no hours") ; ok = false }
            let keys = Weekday.allCases.map(\.rawValue) + ["weekdays", "weekends", "daily"]
            if let days = h.mapping(allowed: keys) {
                var table: [Weekday: [OpeningInterval]] = [:]
                // Groups first, single days last, so that `friday:` overrides `weekdays:` in any key order.
                func rank(_ key: String) -> Int { key == "daily" ? 0 : (key == "weekdays" || key == "weekends") ? 1 : 2 }
                for (key, value) in days.sorted(by: { (rank($0.key), $0.key) < (rank($1.key), $1.key) }) {
                    let targets: [Weekday] = switch key {
                    case "weekdays": WeeklyHours.workingDays
                    case "weekends": [.saturday, .sunday]
                    case "daily": Weekday.allCases
                    default: [Weekday(rawValue: key)!]
                    }
                    var intervals: [OpeningInterval] = []
                    for item in value.list() ?? [] {
                        guard let t = item.text() else { ok = false; continue }
                        guard let i = OpeningInterval(t) else {
                            item.problem("\"\(t)\" is not an opening interval; use HH:MM-HH:MM with the start before the end, e.g. 08:00-17:00")
                            ok = false
                            continue
                        }
                        intervals.append(i)
                    }
                    for d in targets { table[d] = intervals }
                }
                hours = WeeklyHours(table)
                if hours == nil { h.problem("opening intervals of one day overlap"); ok = false }
            } else { ok = false }
        } else if !allDay {
            r.child("hours", nil).problem("is required (or set twentyFourSeven: true)")
            ok = false
        }
        var holidays: [Holiday] = []
        for item in m["holidays"]?.sequence() ?? [] {
            guard let h = item.mapping(allowed: ["name", "date", "from", "through"]) else { ok = false; continue }
            let name = h["name"]?.string() ?? "holiday"
            if let d = h["date"] {
                if let date = d.localDate() { holidays.append(Holiday(name, on: date)) } else { ok = false }
            } else if let f = h["from"], let t = h["through"] {
                if let from = f.localDate(), let through = t.localDate() {
                    if through < from { t.problem("\(through) is before \(from)"); ok = false }
                    holidays.append(Holiday(name, from: from, through: through))
                } else { ok = false }
            } else {
                item.problem("needs a date, or from and through")
                ok = false
            }
        }
        var dayLength: TimeInterval?
        if let b = m["businessDay"] {
            if let d = b.duration() {
                if d.basis == .calendar { dayLength = TimeInterval(d.seconds) } else { b.problem("a business day's length is in hours, e.g. 8h"); ok = false }
            } else { ok = false }
        }
        guard ok, let tz else { return nil }
        if allDay && holidays.isEmpty && dayLength == nil { return .twentyFourSeven(timeZone: tz) }
        return BusinessCalendar(timeZone: tz, weeklyHours: hours, holidays: holidays, businessDayLength: dayLength)
    }

    static func readCalendarReference(
        _ r: YAMLReader?, calendars: [String: BusinessCalendar], invalid: Set<String>, owner: YAMLReader
    ) -> (String, BusinessCalendar)? {
        guard let r = (r ?? owner.child("calendar", nil)).required("the name of a calendar under calendars:") else { return nil }
        guard let name = r.string() else { return nil }
        // A calendar that is defined but invalid has its problems reported where it is defined.
        guard !invalid.contains(name) else { return nil }
        guard let c = calendars[name] else {
            let known = calendars.keys.sorted()
            r.problem("\"\(name)\" is not a calendar defined under calendars:" + (known.isEmpty ? "" : " (known: \(known.joined(separator: ", ")))"))
            return nil
        }
        return (name, c)
    }

    static func readTargets(_ r: YAMLReader) -> [Priority: ServiceTargets]? {
        guard let m = r.mapping(allowed: Priority.allCases.map(\.rawValue)) else { return nil }
        var out: [Priority: ServiceTargets] = [:]
        var ok = true
        for p in Priority.allCases {
            guard let t = m[p.rawValue] else { continue }
            guard let fields = t.mapping(allowed: ["firstResponse", "resolution"]) else { ok = false; continue }
            let fr = (fields["firstResponse"] ?? t.child("firstResponse", nil)).required("a duration such as 30m")?.duration()
            let res = (fields["resolution"] ?? t.child("resolution", nil)).required("a duration such as 8bh")?.duration()
            if let fr, let res { out[p] = ServiceTargets(firstResponse: fr, resolution: res) } else { ok = false }
        }
        return ok ? out : nil
    }

    static func readTerms(
        _ m: [String: YAMLReader], owner: YAMLReader, calendars: [String: BusinessCalendar], invalid: Set<String>
    ) -> ServiceLevelTerms? {
        let cal = readCalendarReference(m["calendar"], calendars: calendars, invalid: invalid, owner: owner)
        let targets = (m["targets"] ?? owner.child("targets", nil)).required("targets per priority")?.mapping() != nil
            ? readTargets(m["targets"]!) : nil
        var thresholds: [Double] = [0.5, 0.75]
        var ok = true
        if let w = m["warningThresholds"] {
            thresholds = []
            for item in w.list() ?? [] {
                if let v = item.double() { thresholds.append(v) } else { ok = false }
            }
        }
        var pauses: Set<HoldReason> = [.awaitingCustomer]
        if let p = m["pausesOn"] {
            pauses = []
            for item in p.list() ?? [] {
                if let v = item.oneOf(HoldReason.self) { pauses.insert(v) } else { ok = false }
            }
        }
        guard ok, let cal, let targets else { return nil }
        return ServiceLevelTerms(calendarName: cal.0, calendar: cal.1, targets: targets, warningThresholds: thresholds, pausesOn: pauses)
    }

    static func readSLA(_ r: YAMLReader, calendars: [String: BusinessCalendar], invalid: Set<String>) -> ServiceLevelTerms? {
        guard let m = r.mapping(allowed: ["calendar", "targets", "warningThresholds", "pausesOn"]) else { return nil }
        return readTerms(m, owner: r, calendars: calendars, invalid: invalid)
    }

    static let agreementKeys = [
        "id", "name", "kind", "vendor", "version", "effectiveFrom", "effectiveTo", "queues", "queue", "coverage", "calendar",
        "takesTicketsOutsideHours", "precedence", "caps", "targets", "warningThresholds", "pausesOn", "lease", "breach",
        "monthlyFee", "credits",
    ]

    static func readAgreement(_ r: YAMLReader, calendars: [String: BusinessCalendar], invalid: Set<String>) -> Agreement? {
        guard let m = r.mapping(allowed: agreementKeys) else { return nil }
        func field(_ key: String) -> YAMLReader { m[key] ?? r.child(key, nil) }
        var ok = true
        let id = field("id").required("a stable id such as northwind-helpdesk")?.string()
        let name = field("name").required("a name for people")?.string()
        let kind = field("kind").required("in-house or vendor")?.oneOf(Agreement.Kind.self)
        let vendor = m["vendor"].flatMap { $0.isPresent ? $0.string() : nil }
        let version = m["version"].map { $0.int(min: 1) } ?? 1
        let terms = readTerms(m, owner: r, calendars: calendars, invalid: invalid)
        let from = field("effectiveFrom").required("the date the terms start, YYYY-MM-DD")?.instant(in: terms?.calendar)
        let to = m["effectiveTo"].flatMap { $0.isPresent ? $0.instant(in: terms?.calendar) : nil }
        if m["effectiveTo"]?.isPresent == true && to == nil { ok = false }
        var queues: [String] = []
        if let q = m["queues"] ?? m["queue"] {
            for item in q.list() ?? [] { if let s = item.string() { queues.append(s) } else { ok = false } }
        } else {
            r.child("queues", nil).problem("is required (the queue or queues tickets go to)")
            ok = false
        }
        var coverage = Coverage()
        if let c = m["coverage"], let cm = c.mapping(allowed: ["categories", "subcategories", "sites", "departments", "priorities"]) {
            for item in cm["categories"]?.list() ?? [] { if let v = item.oneOf(TicketCategory.self) { coverage.categories.insert(v) } else { ok = false } }
            for item in cm["subcategories"]?.list() ?? [] { if let v = item.string() { coverage.subcategories.insert(v) } else { ok = false } }
            for item in cm["sites"]?.list() ?? [] { if let v = item.string() { coverage.sites.insert(v) } else { ok = false } }
            for item in cm["departments"]?.list() ?? [] { if let v = item.string() { coverage.departments.insert(v) } else { ok = false } }
            for item in cm["priorities"]?.list() ?? [] { if let v = item.oneOf(Priority.self) { coverage.priorities.insert(v) } else { ok = false } }
        } else if m["coverage"] != nil { ok = false }
        let outside = m["takesTicketsOutsideHours"].map { $0.bool() } ?? false
        let precedence = m["precedence"].map { $0.int(min: 0) } ?? 100
        var caps = VolumeCaps()
        if let c = m["caps"], let cm = c.mapping(allowed: ["maxOpenTickets", "maxNewTicketsPerMonth"]) {
            if let v = cm["maxOpenTickets"] { caps.maxOpenTickets = v.int(min: 1); if caps.maxOpenTickets == nil { ok = false } }
            if let v = cm["maxNewTicketsPerMonth"] { caps.maxNewTicketsPerMonth = v.int(min: 1); if caps.maxNewTicketsPerMonth == nil { ok = false } }
        } else if m["caps"] != nil { ok = false }
        var leasing = LeaseTerms()
        if let l = m["lease"], let lm = l.mapping(allowed: ["length", "maxRejections", "maxLeaseExpiries"]) {
            if let v = lm["length"] {
                if let d = v.duration() {
                    if d.basis == .business { v.problem("a lease length is calendar time, e.g. 30m"); ok = false } else { leasing.leaseLength = d }
                } else { ok = false }
            }
            if let v = lm["maxRejections"] { if let n = v.int(min: 1) { leasing.maxRejections = n } else { ok = false } }
            if let v = lm["maxLeaseExpiries"] { if let n = v.int(min: 1) { leasing.maxLeaseExpiries = n } else { ok = false } }
        } else if m["lease"] != nil { ok = false }
        var breach: [BreachClause] = []
        for item in m["breach"]?.sequence() ?? [] {
            guard let bm = item.mapping(allowed: ["clock", "moveToQueue", "escalate"]) else { ok = false; continue }
            let clock = (bm["clock"] ?? item.child("clock", nil)).required("first-response or resolution")?.oneOf(SLAClockKind.self)
            let move = bm["moveToQueue"]?.string()
            let escalate = bm["escalate"].map { $0.bool() } ?? false
            if let clock, let escalate { breach.append(BreachClause(clock: clock, moveToQueue: move, escalate: escalate)) } else { ok = false }
        }
        var fee: Money?
        if let f = m["monthlyFee"], f.isPresent {
            if let fm = f.mapping(allowed: ["amount", "currency"]) {
                let amount = (fm["amount"] ?? f.child("amount", nil)).required("e.g. 42000")?.decimal()
                let currency = (fm["currency"] ?? f.child("currency", nil)).required("an ISO 4217 code such as USD")?.string()
                if let amount, let currency { fee = Money(amount: amount, currency: currency) } else { ok = false }
            } else { ok = false }
        }
        var credits: [CreditClause] = []
        for item in m["credits"]?.sequence() ?? [] {
            guard let cm = item.mapping(allowed: ["clock", "below", "credit"]) else { ok = false; continue }
            let clock = (cm["clock"] ?? item.child("clock", nil)).required("first-response or resolution")?.oneOf(SLAClockKind.self)
            let below = (cm["below"] ?? item.child("below", nil)).required("a compliance percentage such as 95%")?.percent()
            let credit = (cm["credit"] ?? item.child("credit", nil)).required("a percentage of the fee such as 5%")?.percent()
            if let clock, let below, let credit {
                credits.append(CreditClause(clock: clock, belowPercent: below, creditPercent: credit))
            } else { ok = false }
        }
        guard ok, let id, let name, let kind, let version, let terms, let from, let precedence, let outside else { return nil }
        return Agreement(
            id: id, name: name, kind: kind, vendorId: vendor, version: version, effectiveFrom: from, effectiveTo: to,
            queues: queues, coverage: coverage, serviceLevel: terms, takesTicketsOutsideHours: outside, precedence: precedence,
            caps: caps, leasing: leasing, breachClauses: breach, monthlyFee: fee, creditClauses: credits)
    }
}

/// An agreements file could not be used. `problems` lists every problem found, not just the first.
public struct AgreementsFileError: Error, Sendable, CustomStringConvertible {
    /// The file, if read from disk.
    public var file: String?
    /// Every problem, with its path in the file.
    public var problems: [ValidationProblem]

    public var description: String {
        let head = "\(file ?? "agreements"): \(problems.count) problem\(problems.count == 1 ? "" : "s")"
        return ([head] + problems.map { "  \($0)" }).joined(separator: "\n")
    }
}
