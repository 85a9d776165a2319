import BatonDomain
import Foundation
import Testing

import BatonImport

/// The package root (three levels above this file).
let packageRoot = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
/// The shipped ServiceNow mapping.
let exampleMapping = packageRoot.appending(path: "deploy/examples/servicenow-mapping.yaml")

@Suite("Import mapping")
struct ImportMappingTests {
    @Test func loadsTheShippedExample() throws {
        let m = try ImportMapping.load(contentsOf: exampleMapping)
        #expect(m.source == "servicenow")
        #expect(m.columns.number == "number")
        #expect(m.columns.group == "assignment_group")
        #expect(m.states["Awaiting User Info"] == .hold(.awaitingCustomer))
        #expect(m.states["Closed"] == .closed)
        #expect(m.priorities["1 - Critical"] == .p1)
        #expect(m.queue(forGroup: "Group 25") == "northwind-l1")
        #expect(m.queue(forGroup: "Group 1") == "service-desk")
        #expect(m.queue(forGroup: nil) == "service-desk")
        #expect(m.category(for: "Category 53") == .desktopSupport)
        #expect(m.category(for: "Category 99") == .other)
        #expect(m.value("?") == nil)
        #expect(m.value("") == nil)
        #expect(m.value(" Group 1 ") == "Group 1")
    }

    @Test func reportsEveryProblemWithItsPath() throws {
        let yaml = """
            source: servicenow
            colums: { number: number }
            time: { format: "dd-MM-yyyy HH:mm", zone: Mars/Olympus }
            states:
              New: opn
              Active: awaiting-customer
              Awaiting Vendor: { hold: waiting }
            priorities:
              "1 - Critical": P0
            categories: { map: { Category 1: helpdesk }, default: other }
            queues:
              map: { Group 1: "north wind" }
            """
        do {
            _ = try ImportMapping.parse(yaml, file: "m.yaml")
            Issue.record("expected an error")
        } catch {
            let messages = error.problems.map { "\($0.path): \($0.message)" }
            let expected = [
                "colums: unknown key; expected one of source, columns, time, emptyValue, states, priorities, impact, urgency, channels, categories, queues",
                "columns: is required",
                "time.zone: \"Mars/Olympus\" is not an IANA time zone, e.g. UTC or America/Chicago",
                "states[\"New\"]: \"opn\" is not a state; use open, resolved, closed, or { hold: REASON }",
                "states[\"Active\"]: \"awaiting-customer\" is a hold reason; write { hold: awaiting-customer }",
                "states[\"Awaiting Vendor\"].hold: \"waiting\" is not a hold reason; use awaiting-customer, awaiting-vendor, awaiting-change, scheduled",
                "priorities[\"1 - Critical\"]: \"P0\" is not one of P1, P2, P3, P4, P5",
                "categories.map[\"Category 1\"]: \"helpdesk\" is not one of help-desk, desktop-support, wan-lan, server-operations, application-services, training, other",
                "queues.default: is required",
                "queues.map[\"Group 1\"]: \"north wind\" is not a queue name; use letters, digits and dashes, e.g. service-desk",
            ]
            for e in expected { #expect(messages.contains(e), "missing: \(e)\nin: \(messages)") }
            #expect(messages.count == expected.count, "\(messages)")
            #expect(error.problems.allSatisfy { $0.line != nil })
            #expect(error.description.hasPrefix("m.yaml: \(expected.count) problems"))
        }
    }

    @Test func rejectsAPatternWithoutMinutes() throws {
        let yaml = """
            source: s
            columns: { number: n, state: s, updatedAt: u }
            time: { format: "dd-MM-yyyy", zone: UTC }
            states: { New: open }
            queues: { default: service-desk }
            """
        #expect(throws: ImportMappingError(file: nil, problems: [
            ValidationProblem(path: "time.format", message: "\"dd-MM-yyyy\" is not a usable time pattern; it needs year, month, day, hour and minute, e.g. dd-MM-yyyy HH:mm", line: 3),
        ])) { try ImportMapping.parse(yaml) }
    }

    @Test func notYAMLAndEmptyAreProblemsToo() {
        #expect(throws: ImportMappingError.self) { try ImportMapping.parse("a: [") }
        #expect(throws: ImportMappingError(file: nil, problems: [ValidationProblem(path: "", message: "the file is empty")])) {
            try ImportMapping.parse("")
        }
    }

    @Test func parsesTimesInTheMappingsZone() throws {
        var m = try ImportMapping.load(contentsOf: exampleMapping)
        // 29 Feb 2016 01:16 UTC.
        #expect(m.instant(from: "29-02-2016 01:16") == Date(timeIntervalSince1970: 1_456_708_560))
        m.timeZone = TimeZone(identifier: "America/Chicago")!
        // Central Standard Time is UTC-6 in February ...
        #expect(m.instant(from: "29-02-2016 01:16") == Date(timeIntervalSince1970: 1_456_708_560 + 6 * 3600))
        // ... and Central Daylight Time UTC-5 in July: 01-07-2016 12:00 CDT = 17:00 UTC.
        #expect(m.instant(from: "01-07-2016 12:00") == Date(timeIntervalSince1970: 1_467_392_400))
        // Strict: no rollover, no other layout.
        #expect(m.instant(from: "31-02-2016 10:00") == nil)
        #expect(m.instant(from: "2016-02-29 01:16") == nil)
        #expect(m.instant(from: "") == nil)
    }
}
