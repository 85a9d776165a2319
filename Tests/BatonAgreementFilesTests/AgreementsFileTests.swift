import BatonDomain
import Foundation
import Testing
@testable import BatonAgreementFiles

/// The repository root, found from this file's path (Tests/BatonAgreementFilesTests/…).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite("Agreements file")
struct AgreementsFileTests {
    @Test("The example city IT agreements file loads")
    func exampleLoads() throws {
        let set = try AgreementsFile.load(contentsOf: packageRoot.appending(path: "deploy/examples/agreements.yaml"))
        #expect(set.defaultQueue == "service-desk")
        #expect(set.agreements.count == 6)
        let northwind = try #require(set.agreement(id: "northwind-helpdesk", version: 1))
        #expect(northwind.vendorId == "northwind")
        #expect(northwind.serviceLevel.calendar.isTwentyFourSeven)
        #expect(northwind.serviceLevel.targets[.p1]?.resolution == .calendar(hours: 4))
        #expect(northwind.serviceLevel.warningThresholds == [0.5, 0.75, 0.9])
        #expect(northwind.creditClauses.count == 3)
        #expect(northwind.monthlyFee == Money(amount: 38500, currency: "USD"))
        #expect(northwind.breachClause(for: .resolution)?.moveToQueue == "service-desk-escalations")
        #expect(set.customerSLA.calendar.businessDayLength == 36_000)
        #expect(set.customerSLA.calendar.holidays.count == 11)
        // 92% resolution compliance: the 95% tier (5%) applies, not the 90% one.
        #expect(northwind.serviceCredit(compliancePercent: [.resolution: 92, .firstResponse: 99]) == 1925)
        #expect(northwind.serviceCredit(compliancePercent: [.resolution: 89, .firstResponse: 80]) == Decimal(38500) * 13 / 100)
    }

    @Test("Every problem is reported with its path, not just the first")
    func reportsEveryProblem() {
        let yaml = """
        defaultQueue: service-desk
        calendars:
          office: { timeZone: America/Chicago, hours: { weekdays: ["08:00-17:00"] } }
          bad: { timeZone: Mars/Olympus, hours: { weekdays: ["17:00-08:00"] } }
        customerSLA:
          calendar: office
          targets:
            P1: { firstResponse: 15m, resolution: 4h }
        agreements:
          - id: a
            name: A
            kind: in-house
            effectiveFrom: 2026-01-01
            queues: [q]
            calendar: office
            targets: { P1: { firstResponse: 15m, resolution: 4h } }
          - id: b
            name: B
            kind: vendr
            effectiveFrom: 2026-13-01
            queue: q
            calendar: nowhere
            precedance: 3
            targets: { P1: { firstResponse: 15m, resolution: 4h } }
          - id: c
            name: C
            kind: vendor
            vendor: v
            effectiveFrom: 2026-01-01
            queues: [q]
            calendar: office
            targets:
              P1: { firstResponse: 15m, resolution: "4 hrs" }
            credits:
              - { clock: resolution, below: 95%, credit: lots }
        """
        #expect {
            try AgreementsFile.parse(yaml)
        } throws: { error in
            guard let e = error as? AgreementsFileError else { return false }
            let text = e.problems.map(\.description)
            let expected = [
                "calendars.bad.timeZone: \"Mars/Olympus\" is not an IANA time zone",
                "calendars.bad.hours.weekdays[0]: \"17:00-08:00\" is not an opening interval",
                "agreements[1].kind: \"vendr\" is not one of in-house, vendor",
                "agreements[1].effectiveFrom: \"2026-13-01\" is not a date",
                "agreements[1].calendar: \"nowhere\" is not a calendar defined under calendars: (known: office)",
                "agreements[1].precedance: unknown key; did you mean precedence?",
                "agreements[2].targets.P1.resolution: \"4 hrs\" is not a duration; use 4h, 30m, 3bd",
                "agreements[2].credits[0].credit: \"lots\" is not a number",
            ]
            for x in expected where !text.contains(where: { $0.hasPrefix(x) }) {
                Issue.record("missing problem: \(x)\nin:\n\(text.joined(separator: "\n"))")
            }
            return e.problems.allSatisfy { $0.line != nil } && e.problems.count == expected.count
        }
    }

    @Test("Text holding U+0000 is refused wherever it is, with its path: the read models could not store it")
    func refusesNul() throws {
        let example = try String(contentsOf: packageRoot.appending(path: "deploy/examples/agreements.yaml"), encoding: .utf8)
        _ = try AgreementsFile.parse(example)
        for (from, to, path) in [
            ("queues: [civicsoft-apps]", #"queues: ["civic\0soft"]"#, "agreements[4].queues[0]"),
            ("vendor: civicsoft", #"vendor: "civic\0soft""#, "agreements[4].vendor"),
            ("precedence: 20", #""prece\0dence": 20"#, "agreements[4]"),  // in every agreement with precedence 20
        ] {
            let broken = example.replacingOccurrences(of: from, with: to)
            #expect(broken != example, "\(from) is not in the example")
            #expect {
                try AgreementsFile.parse(broken)
            } throws: { error in
                guard let problems = (error as? AgreementsFileError)?.problems.map(\.description) else { return false }
                return problems.contains { $0.hasPrefix(path + ":") && $0.contains("U+0000") }
            }
        }
    }

    @Test("Domain rules are checked after the file reads cleanly")
    func domainRules() {
        let yaml = """
        defaultQueue: service-desk
        calendars:
          office: { timeZone: America/Chicago, hours: { weekdays: ["08:00-17:00"] } }
        customerSLA:
          calendar: office
          warningThresholds: [0.5, 1.5]
          targets: { P1: { firstResponse: 15m, resolution: 4h } }
        agreements:
          - { id: a, name: A, kind: vendor, effectiveFrom: 2026-01-01, effectiveTo: 2025-01-01, queues: [q], calendar: office,
              targets: { P1: { firstResponse: 15m, resolution: 4h } } }
          - { id: a, name: A, kind: in-house, effectiveFrom: 2026-01-01, queues: [q], calendar: office,
              targets: { P1: { firstResponse: 15m, resolution: 4h } } }
        """
        #expect {
            try AgreementsFile.parse(yaml)
        } throws: { error in
            let text = (error as? AgreementsFileError)?.problems.map(\.description) ?? []
            return text.contains("customerSLA.warningThresholds[1]: 1.5 must be between 0 and 1 (e.g. 0.75 for 75%)")
                && text.contains("agreements[0].vendor: a vendor agreement needs a vendor id")
                && text.contains("agreements[0].effectiveTo: must be after effectiveFrom")
                && text.contains("agreements[1].version: agreement a version 1 is already defined at agreements[0]")
        }
    }

    /// A minimal valid file around one calendar and one agreement's extra lines.
    static func file(calendar: String, agreementExtra: String = "") -> String {
        """
        defaultQueue: service-desk
        calendars:
          office:
        \(calendar)
        customerSLA:
          calendar: office
          targets: { P1: { firstResponse: 15m, resolution: 4h } }
        agreements:
          - id: v
            name: V
            kind: vendor
            vendor: v
            effectiveFrom: 2026-01-01
            queues: [q]
            calendar: office
            targets: { P1: { firstResponse: 15m, resolution: 4h } }
        \(agreementExtra)
        """
    }

    @Test("Hours for a single day override the weekdays group, whatever the key order")
    func singleDayOverridesGroup() throws {
        for hours in ["{ weekdays: [\"08:00-17:00\"], friday: [\"08:00-12:00\"] }",
                      "{ friday: [\"08:00-12:00\"], weekdays: [\"08:00-17:00\"] }"] {
            let set = try AgreementsFile.parse(Self.file(calendar: "    timeZone: America/Chicago\n    hours: \(hours)"))
            let hoursRead = try #require(set.customerSLA.calendar.weeklyHours)
            #expect(hoursRead.days[.friday] == [OpeningInterval("08:00-12:00")!])
            #expect(hoursRead.days[.thursday] == [OpeningInterval("08:00-17:00")!])
        }
    }

    @Test("Percentages in credit clauses mean percent with or without the % sign, also for 1 or less")
    func creditPercentages() throws {
        let credits = """
            monthlyFee: { amount: 1000, currency: USD }
            credits:
              - { clock: resolution, below: 95, credit: 1 }
              - { clock: resolution, below: 90%, credit: 0.5% }
              - { clock: first-response, below: 99.5, credit: 0.5 }
        """
        let set = try AgreementsFile.parse(Self.file(calendar: "    timeZone: America/Chicago\n    twentyFourSeven: true",
                                                     agreementExtra: credits))
        let clauses = try #require(set.agreements.first).creditClauses
        #expect(clauses.map(\.belowPercent) == [95, 90, 99.5])
        #expect(clauses.map(\.creditPercent) == [1, 0.5, 0.5])
    }

    @Test("An agreement naming a calendar that has its own problems does not get a second, misleading one")
    func invalidCalendarReportedOnce() {
        let yaml = Self.file(calendar: "    timeZone: Mars/Olympus\n    hours: { weekdays: [\"08:00-17:00\"] }")
        #expect {
            try AgreementsFile.parse(yaml)
        } throws: { error in
            let text = (error as? AgreementsFileError)?.problems.map(\.description) ?? []
            return text.count == 1 && text[0].hasPrefix("calendars.office.timeZone: \"Mars/Olympus\" is not an IANA time zone")
        }
    }

    @Test("Domain rules of the agreements that read cleanly are reported together with the reading problems")
    func domainRulesAlongsideReadingProblems() {
        let yaml = """
        defaultQueue: service-desk
        calendars:
          office: { timeZone: America/Chicago, hours: { weekdays: ["08:00-17:00"] } }
        customerSLA:
          calendar: office
          warningThresholds: [0.5, 1.5]
          targets: { P1: { firstResponse: 15m, resolution: 4h } }
        agreements:
          - { id: a, name: A, kind: in-house, effectiveFrom: 2026-01-01, queues: [q], calendar: office,
              targets: { P1: { firstResponse: 15m, resolution: "4 hrs" } } }
          - { id: b, name: B, kind: vendor, effectiveFrom: 2026-01-01, queues: [q], calendar: office,
              targets: { P1: { firstResponse: 15m, resolution: 4h } } }
        """
        #expect {
            try AgreementsFile.parse(yaml)
        } throws: { error in
            let text = (error as? AgreementsFileError)?.problems.map(\.description) ?? []
            let expected = [
                "agreements[0].targets.P1.resolution: \"4 hrs\" is not a duration",
                "customerSLA.warningThresholds[1]: 1.5 must be between 0 and 1",
                "agreements[1].vendor: a vendor agreement needs a vendor id",
            ]
            for x in expected where !text.contains(where: { $0.hasPrefix(x) }) {
                Issue.record("missing problem: \(x)\nin:\n\(text.joined(separator: "\n"))")
            }
            return text.count == expected.count
        }
    }

    @Test("Invalid YAML is one problem, not a crash")
    func invalidYAML() {
        #expect(throws: AgreementsFileError.self) { try AgreementsFile.parse("agreements: [unclosed") }
        #expect(throws: AgreementsFileError.self) { try AgreementsFile.parse("") }
    }

    @Test("Agreements round-trip through stored agreement events")
    func agreementEventsRoundTrip() throws {
        let set = try AgreementsFile.load(contentsOf: packageRoot.appending(path: "deploy/examples/agreements.yaml"))
        let prairie = set.agreements.filter { $0.id == "prairie-wan-lan" }
        let events = AgreementEvent.changes(current: [], desired: prairie)
        #expect(events.map(\.typeName) == ["AgreementRegistered", "AgreementAmended"])
        let decoded = try events.map { try AgreementEvent.decode(typeName: $0.typeName, schemaVersion: $0.schemaVersion, data: $0.encodedData()) }
        #expect(decoded == events)
        #expect(AgreementEvent.versions(from: decoded) == prairie)
        #expect(AgreementEvent.changes(current: prairie, desired: prairie).isEmpty)
    }
}
