import BatonDomain
import Foundation
import Testing

import BatonImport

/// The sample export: `shared/data/` next to the package root (in /work, and `../shared/data/`
/// from the main repository).
let sampleCSV = packageRoot.deletingLastPathComponent().appending(path: "shared/data/servicenow_incident_event_log_sample.csv")

/// A row of the sample as plain strings, read without the importer (the sample has no quotes).
struct PlainRow {
    var number, state, priority, group, updatedAt: String
    var modCount: Int
    var line: Int

    /// `dd-MM-yyyy HH:mm` as a sortable `yyyyMMddHHmm` string.
    var sortKey: String {
        let p = updatedAt.split(whereSeparator: { $0 == "-" || $0 == " " })
        return "\(p[2])\(p[1])\(p[0])\(p[3])"
    }
}

func plainIncidents() throws -> [String: [PlainRow]] {
    let lines = try String(contentsOf: sampleCSV, encoding: .utf8).split(whereSeparator: \.isNewline)
    let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    func col(_ name: String) -> Int { header.firstIndex(of: name)! }
    var out: [String: [PlainRow]] = [:]
    for (i, line) in lines.dropFirst().enumerated() {
        let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let row = PlainRow(number: f[col("number")], state: f[col("incident_state")], priority: f[col("priority")],
                           group: f[col("assignment_group")], updatedAt: f[col("sys_updated_at")],
                           modCount: Int(f[col("sys_mod_count")])!, line: i + 2)
        out[row.number, default: []].append(row)
    }
    return out.mapValues { rows in
        rows.sorted { ($0.sortKey, $0.modCount, $0.line) < ($1.sortKey, $1.modCount, $1.line) }
    }
}

/// The number of events an incident should yield, counted straight from its rows: open and
/// route, then per row a reopen when a resolved incident is active again, a priority change,
/// a queue change (preceded by a resume when on hold), entering/leaving/changing a hold,
/// resolve, and close (preceded by a resolve when not resolved).
func expectedEventCount(_ rows: [PlainRow], _ mapping: ImportMapping) -> Int {
    func queue(_ group: String) -> String { mapping.queues[group] ?? mapping.defaultQueue }
    func holdReason(_ state: String) -> HoldReason? {
        if case .hold(let r) = mapping.states[state] { return r }
        return nil
    }
    var count = 2
    var status = "open"  // open, hold, resolved, closed
    var reason: HoldReason?
    var priority = rows[0].priority
    var currentQueue = queue(rows[0].group)
    for row in rows {
        if status == "closed" { continue }
        let target = row.state == "Resolved" ? "resolved" : row.state == "Closed" ? "closed"
            : row.state.hasPrefix("Awaiting") ? "hold" : "open"
        if status == "resolved" && (target == "open" || target == "hold") {
            count += 1  // reopen
            status = "open"
        }
        let active = status == "open" || status == "hold"
        if active && row.priority != "?" && row.priority != priority {
            count += 1
            priority = row.priority
        }
        if active && row.group != "?" && queue(row.group) != currentQueue {
            if status == "hold" { count += 1; status = "open" }  // resume before moving
            count += 1
            currentQueue = queue(row.group)
        }
        switch target {
        case "open":
            if status == "hold" { count += 1; status = "open" }
        case "hold":
            if status == "hold" && reason == holdReason(row.state) { break }
            if status == "hold" { count += 1 }
            count += 1
            status = "hold"
            reason = holdReason(row.state)
        case "resolved":
            if status != "resolved" { count += 1; status = "resolved" }
        default:
            if status != "resolved" { count += 1 }
            count += 1
            status = "closed"
        }
    }
    return count
}

/// Whether a folded ticket is in the state a source state describes.
func matches(_ ticket: Ticket, _ state: String, _ mapping: ImportMapping) -> Bool {
    switch state {
    case "Closed": ticket.status == .closed
    case "Resolved": ticket.status == .resolved
    case "New", "Active": [.queued, .accepted, .inProgress].contains(ticket.status)
    default:
        if case .hold(let reason) = mapping.states[state] {
            ticket.status == .onHold && ticket.hold?.reason == reason
        } else {
            false
        }
    }
}

/// A deterministic ticket id per incident.
func ticketId(_ index: Int) -> UUID { UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", index))! }

@Suite("ServiceNow sample")
struct ServiceNowSampleTests {
    let mapping: ImportMapping
    let incidents: [IncidentHistory]

    init() throws {
        mapping = try ImportMapping.load(contentsOf: exampleMapping)
        incidents = try IncidentReplay.incidents(in: sampleCSV, mapping: mapping)
    }

    @Test func groupsTheRowsInto890Incidents() throws {
        #expect(incidents.count == 890)
        #expect(incidents.reduce(0) { $0 + $1.rows.count } == 5998)
        #expect(Set(incidents.map(\.number)).count == 890)
        let first = try #require(incidents.first)
        #expect(first.number == "INC0000045")
        #expect(first.rows.first?.state == "New")
        #expect(first.rows.first?.line == 2)
        #expect(first.rows.first?.group == "Group 56")
        #expect(first.rows.first?.openedAt == mapping.instant(from: "29-02-2016 01:16"))
    }

    @Test func everyIncidentReplaysWithTheExpectedEventsAndFinalState() throws {
        let plain = try plainIncidents()
        var total = 0
        for (index, incident) in incidents.enumerated() {
            let events = try IncidentReplay.events(for: incident, ticketId: ticketId(index), number: "T-\(index + 1)", mapping: mapping)
            total += events.count
            let rows = try #require(plain[incident.number])
            #expect(events.count == expectedEventCount(rows, mapping), "\(incident.number)")
            let ticket = try #require(TicketDecider.fold(events))
            #expect(ticket.id == ticketId(index))
            #expect(ticket.number == "T-\(index + 1)")
            #expect(ticket.details.externalReference == incident.number)
            #expect(matches(ticket, rows.last!.state, mapping), "\(incident.number): \(ticket.status) vs \(rows.last!.state)")
            #expect(ticket.version == events.count)
            // Original instants, never going backwards, starting when the incident was opened.
            #expect(events.first?.occurredAt == incident.rows[0].openedAt)
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.occurredAt <= $1.occurredAt }, "\(incident.number)")
        }
        #expect(total > 890 * 4)
    }

    /// Every prefix of every incident ends in the state (and, when active, the queue) of its last row.
    @Test func everyPrefixEndsInItsLastRowsState() throws {
        for (index, incident) in incidents.enumerated() {
            for k in 1...incident.rows.count {
                let prefix = IncidentHistory(number: incident.number, rows: Array(incident.rows.prefix(k)))
                let events = try IncidentReplay.events(for: prefix, ticketId: ticketId(index), number: "T-1", mapping: mapping)
                let ticket = try #require(TicketDecider.fold(events))
                let last = prefix.rows[k - 1]
                #expect(matches(ticket, last.state, mapping), "\(incident.number) after \(k) rows: \(ticket.status) vs \(last.state)")
                if ticket.isActive {
                    let group = prefix.rows.last(where: { $0.group != nil })?.group
                    #expect(ticket.assignment?.placement.queue == mapping.queue(forGroup: group), "\(incident.number) after \(k) rows")
                    let priority = prefix.rows.last(where: { $0.priority != nil })?.priority
                    #expect(ticket.priority == priority.flatMap { mapping.priorities[$0] }, "\(incident.number) after \(k) rows")
                }
            }
        }
    }

    @Test func replaysAPriorityChange() throws {
        let incident = try #require(incidents.first { $0.number == "INC0000062" })
        let events = try IncidentReplay.events(for: incident, ticketId: ticketId(0), number: "T-62", mapping: mapping)
        let changes = events.compactMap { e -> PriorityChanged? in
            if case .priorityChanged(let p) = e.event { return p }
            return nil
        }
        #expect(changes.map { [$0.from, $0.to] } == [[.p3, .p2]])
        guard case .opened(let opened) = events[0].event else { Issue.record("first event is not an opening"); return }
        #expect(opened.priority == .p3)
        #expect(opened.prioritySource == "given")
        #expect(opened.details.source == "servicenow")
        #expect(opened.details.channel == .phone)
        #expect(events[1].actor == .ingest("servicenow"))
        guard case .routed = events[1].event else { Issue.record("second event is not a routing"); return }
    }

    @Test func isDeterministic() throws {
        let a = try IncidentReplay.events(for: incidents[7], ticketId: ticketId(7), number: "T-8", mapping: mapping)
        let again = try IncidentReplay.incidents(in: sampleCSV, mapping: mapping)
        let b = try IncidentReplay.events(for: again[7], ticketId: ticketId(7), number: "T-8", mapping: mapping)
        #expect(a == b)
    }
}
