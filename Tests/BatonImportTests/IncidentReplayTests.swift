import BatonDomain
import Foundation
import Testing

import BatonImport

@Suite("Incident replay")
struct IncidentReplayTests {
    let mapping: ImportMapping

    init() throws { mapping = try ImportMapping.load(contentsOf: exampleMapping) }

    /// A small export in the sample's layout (only the mapped columns matter).
    func histories(_ rows: [String]) throws -> [IncidentHistory] {
        let header = "number,incident_state,sys_mod_count,opened_at,sys_updated_at,priority,impact,urgency,category,subcategory,location,assignment_group,caller_id,opened_by,sys_updated_by,contact_type,resolved_at,closed_at,closed_code,resolved_by"
        return try IncidentReplay.incidents(from: CSVReader(string: ([header] + rows).joined(separator: "\n")), mapping: mapping)
    }

    func row(_ n: String, _ state: String, mod: Int, at time: String, priority: String = "3 - Moderate", group: String = "Group 70") -> String {
        "\(n),\(state),\(mod),01-03-2016 09:00,\(time),\(priority),2 - Medium,2 - Medium,Category 45,?,Location 1,\(group),Caller 1,Opened by 1,Updated by \(mod),Phone,?,?,code 6,Resolved by 1"
    }

    func types(_ events: [Stamped<TicketEvent>]) -> [String] { events.map(\.event.typeName) }

    @Test func groupsInterleavedRowsAndOrdersThemByTimeThenCounter() throws {
        let incidents = try histories([
            row("INC2", "Active", mod: 1, at: "01-03-2016 10:00"),
            row("INC1", "Active", mod: 2, at: "01-03-2016 10:00"),
            row("INC1", "New", mod: 0, at: "01-03-2016 09:30"),
            row("INC2", "New", mod: 0, at: "01-03-2016 09:10"),
            row("INC1", "Awaiting User Info", mod: 1, at: "01-03-2016 10:00"),
        ])
        #expect(incidents.map(\.number) == ["INC2", "INC1"])
        #expect(incidents[1].rows.map(\.modCount) == [0, 1, 2])
        #expect(incidents[1].rows.map(\.line) == [4, 6, 3])
        #expect(incidents[0].rows.map(\.state) == ["New", "Active"])
    }

    @Test func aGroupChangeOnHoldResumesMovesAndHoldsAgain() throws {
        let incident = try #require(try histories([
            row("INC1", "New", mod: 0, at: "01-03-2016 09:00"),
            row("INC1", "Awaiting User Info", mod: 1, at: "01-03-2016 10:00"),
            row("INC1", "Awaiting User Info", mod: 2, at: "01-03-2016 11:00", group: "Group 25"),
            row("INC1", "Awaiting Evidence", mod: 3, at: "01-03-2016 11:30", group: "Group 25"),  // same reason
            row("INC1", "Awaiting Problem", mod: 4, at: "01-03-2016 12:00", group: "Group 25"),   // another reason
            row("INC1", "Active", mod: 5, at: "01-03-2016 13:00", priority: "2 - High", group: "Group 25"),
            row("INC1", "Active", mod: 6, at: "01-03-2016 13:30", priority: "2 - High", group: "Group 99"),  // same queue as Group 70
            row("INC1", "Active", mod: 7, at: "01-03-2016 13:40", priority: "2 - High", group: "?"),          // no change
            row("INC1", "Resolved", mod: 8, at: "01-03-2016 14:00", priority: "2 - High", group: "Group 99"),
            row("INC1", "Active", mod: 9, at: "02-03-2016 08:00", priority: "2 - High", group: "Group 99"),
            row("INC1", "Closed", mod: 10, at: "03-03-2016 08:00", priority: "2 - High", group: "Group 99"),
            row("INC1", "Closed", mod: 11, at: "03-03-2016 09:00", priority: "1 - Critical", group: "Group 24"),
        ]).first)
        let events = try IncidentReplay.events(for: incident, ticketId: UUID(), number: "T-1", mapping: mapping)
        #expect(types(events) == [
            "TicketOpened", "TicketRouted",
            "TicketPutOnHold",
            "TicketResumed", "TicketReassigned", "TicketPutOnHold",
            "TicketResumed", "TicketPutOnHold",
            "PriorityChanged", "TicketResumed",
            "TicketReassigned",
            "TicketResolved",
            "TicketReopened",
            "TicketResolved", "TicketClosed",
        ])
        let ticket = try #require(TicketDecider.fold(events))
        #expect(ticket.status == .closed)
        #expect(ticket.priority == .p2)
        #expect(ticket.assignment?.placement.queue == "service-desk")
        #expect(events[4].actor == .agent("Updated by 2"))
        #expect(events[2].event == .putOnHold(TicketPutOnHold(reason: .awaitingCustomer, until: nil, note: "Awaiting User Info")))
        #expect(events[7].event == .putOnHold(TicketPutOnHold(reason: .awaitingChange, until: nil, note: "Awaiting Problem")))
    }

    @Test func errorsNameTheIncidentAndLine() throws {
        let unknownState = try histories([
            row("INC1", "New", mod: 0, at: "01-03-2016 09:00"),
            row("INC1", "Cancelled", mod: 1, at: "01-03-2016 10:00"),
        ])[0]
        #expect(throws: ImportError(code: .invalidValue, incident: "INC1", line: 3, message:
            "state \"Cancelled\" is not in the mapping's states; add it (open, resolved, closed or { hold: REASON })")) {
            try IncidentReplay.events(for: unknownState, ticketId: UUID(), number: "T-1", mapping: mapping)
        }

        let activeAfterClose = try histories([
            row("INC1", "Closed", mod: 0, at: "01-03-2016 09:00"),
            row("INC1", "Active", mod: 1, at: "01-03-2016 10:00"),
        ])[0]
        #expect(throws: ImportError(code: .notReplayable, incident: "INC1", line: 3, message:
            "the incident was closed at line 2, but this row says \"Active\"")) {
            try IncidentReplay.events(for: activeAfterClose, ticketId: UUID(), number: "T-1", mapping: mapping)
        }

        let unknownPriority = try histories([row("INC1", "New", mod: 0, at: "01-03-2016 09:00", priority: "0 - Panic")])[0]
        #expect(throws: ImportError(code: .invalidValue, incident: "INC1", line: 2, message:
            "priority \"0 - Panic\" is not in the mapping's priorities")) {
            try IncidentReplay.events(for: unknownPriority, ticketId: UUID(), number: "T-1", mapping: mapping)
        }

        let emptyNumber = try histories([row("INC1", "New", mod: 0, at: "01-03-2016 09:00")])[0]
        #expect(throws: ImportError.self) {
            try IncidentReplay.events(for: emptyNumber, ticketId: UUID(), number: "", mapping: mapping)
        }
    }

    @Test func fileErrorsNameTheLineOrColumn() throws {
        #expect(throws: ImportError(code: .invalidValue, line: 3, message:
            "updatedAt \"2016-03-01 10:00\" is not a time in the format dd-MM-yyyy HH:mm")) {
            try histories([row("INC1", "New", mod: 0, at: "01-03-2016 09:00"), row("INC1", "New", mod: 1, at: "2016-03-01 10:00")])
        }
        // U+0000, which PostgreSQL's text cannot hold, in a mapped column: the file is refused
        // before anything is imported, naming the line and the column.
        #expect(throws: ImportError(code: .invalidValue, line: 3, message:
            "requester (column \"caller_id\") holds U+0000, which text cannot hold")) {
            try histories([row("INC1", "New", mod: 0, at: "01-03-2016 09:00"),
                           row("INC1", "New", mod: 1, at: "01-03-2016 10:00").replacingOccurrences(of: "Caller 1", with: "Caller\u{0}1")])
        }
        #expect(throws: ImportError(code: .invalidValue, line: 2, message:
            "number (column \"number\") holds U+0000, which text cannot hold")) {
            try histories([row("INC\u{0}1", "New", mod: 0, at: "01-03-2016 09:00")])
        }
        let reader = try CSVReader(string: "number,incident_state\nINC1,New\n")
        do {
            _ = try IncidentReplay.incidents(from: reader, mapping: mapping)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .missingColumn)
            #expect(error.message.contains("columns.updatedAt: \"sys_updated_at\""))
            #expect(error.message.contains("columns.group: \"assignment_group\""))
        }
        do {
            _ = try IncidentReplay.incidents(in: URL(filePath: "/nonexistent/x.csv"), mapping: mapping)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .malformedCSV)
            #expect(error.message.hasPrefix("x.csv: cannot open /nonexistent/x.csv"))
        }
    }
}
