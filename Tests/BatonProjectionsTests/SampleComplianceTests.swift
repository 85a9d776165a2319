import BatonAgreementFiles
import BatonDomain
import BatonImport
import BatonProjections
import BatonServer
import EventStore
import Foundation
import Logging
import Postgres
import TestSupport
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let serviceNowSample = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data/servicenow_incident_event_log_sample.csv")
let serviceNowMapping = repositoryRoot.appendingPathComponent("deploy/examples/servicenow-mapping.yaml")

/// One incident of the sample, read straight from the CSV with no Baton code.
struct SampleIncident {
    struct Row {
        var state: String
        var updatedAt: Date
        var modCount: Int
        var priority: String
        var group: String
        var resolvedAt: Date?
        var madeSLA: Bool
    }
    var number: String
    var openedAt: Date
    var rows: [Row]

    static func load() throws -> [SampleIncident] {
        let formatter = DateFormatter()
        formatter.dateFormat = "dd-MM-yyyy HH:mm"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        let text = try String(contentsOf: serviceNowSample, encoding: .utf8)
        let lines = text.split(whereSeparator: \.isNewline)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        func column(_ name: String) -> Int { header.firstIndex(of: name)! }
        let (number, state, updated, mod, opened, priority, group, resolved, made) = (
            column("number"), column("incident_state"), column("sys_updated_at"), column("sys_mod_count"), column("opened_at"),
            column("priority"), column("assignment_group"), column("resolved_at"), column("made_sla"))
        var incidents: [String: SampleIncident] = [:]
        var order: [String] = []
        for line in lines.dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let row = Row(
                state: f[state], updatedAt: formatter.date(from: f[updated])!, modCount: Int(f[mod]) ?? 0, priority: f[priority],
                group: f[group], resolvedAt: formatter.date(from: f[resolved]), madeSLA: f[made] == "TRUE")
            if incidents[f[number]] == nil {
                order.append(f[number])
                incidents[f[number]] = SampleIncident(number: f[number], openedAt: formatter.date(from: f[opened])!, rows: [])
            }
            incidents[f[number]]!.rows.append(row)
        }
        return order.map { number in
            var incident = incidents[number]!
            incident.rows.sort { ($0.updatedAt, $0.modCount) < ($1.updatedAt, $1.modCount) }
            return incident
        }
    }

    var finalState: String { rows.last!.state }
    var wasResolved: Bool { finalState == "Resolved" || finalState == "Closed" }

    /// When the file says its last resolution took effect: the last row entering Resolved (or
    /// Closed without Resolved before it), at its resolved_at when that lies between the
    /// previous row and this one.
    var lastResolution: Date? {
        var result: Date?
        var previous = openedAt
        var resolved = false
        for row in rows {
            let resolving = (row.state == "Resolved" || row.state == "Closed") && !resolved
            if resolving {
                result = row.resolvedAt.flatMap { $0 >= previous && $0 <= row.updatedAt ? $0 : nil } ?? row.updatedAt
            }
            resolved = row.state == "Resolved" || row.state == "Closed"
            previous = row.updatedAt
        }
        return result
    }

    /// Resolved once, never on hold, one priority and one group throughout: its clocks run
    /// plainly from opening to resolution.
    var isPlain: Bool {
        guard wasResolved, !rows.contains(where: { $0.state.hasPrefix("Awaiting") }) else { return false }
        guard Set(rows.map(\.priority)).count == 1, Set(rows.map(\.group)).count == 1 else { return false }
        let firstResolved = rows.firstIndex { $0.state == "Resolved" || $0.state == "Closed" }!
        return rows[firstResolved...].allSatisfy { $0.state == "Resolved" || $0.state == "Closed" }
    }
}

@Suite("SLA compliance over the ServiceNow sample reconciles with the file")
struct SampleComplianceTests {
    @Test("each resolved incident counts once, in its resolution's month; calendar-time verdicts equal a computation from the CSV")
    func reconcile() async throws {
        let incidents = try SampleIncident.load()
        #expect(incidents.count == 890)
        let mapping = try ImportMapping.load(contentsOf: serviceNowMapping)
        let set = try AgreementsFile.load(contentsOf: repositoryRoot.appendingPathComponent("deploy/examples/agreements.yaml"))
        try await TestDatabase.withFresh { db async throws in
            _ = try await AgreementCatalog(store: db.eventStore).apply(set, actor: "admin:root", at: Date(timeIntervalSince1970: 1_450_000_000))
            let summary = try await TicketImporter(tickets: TicketStore(store: db.eventStore)).importCSV(file: serviceNowSample, mapping: mapping)
            #expect(summary.imported == 890)
            var runner = ProjectionRunner(projection: TicketsProjection(store: db.eventStore), store: db.eventStore, logger: Logger(label: "test"))
            runner.pollInterval = .milliseconds(50)
            let projecting = Task { [runner] in try await runner.run() }
            defer { projecting.cancel() }
            let admin = ProjectionAdmin(store: db.eventStore, projections: [TicketsProjection(store: db.eventStore)])
            #expect(try await admin.waitUntilApplied(try await db.eventStore.headPosition(), timeout: .seconds(60)))

            let reports = ComplianceReports(client: db.client)
            let rows = try await reports.compliance(.init(from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 4_000_000_000)))
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyy-MM"
            formatter.timeZone = TimeZone(identifier: "UTC")
            // Every resolved incident is in exactly one month's figures per clock: its last resolution's.
            var expectedPerMonth: [String: Int] = [:]
            for incident in incidents where incident.wasResolved {
                expectedPerMonth[formatter.string(from: incident.lastResolution!), default: 0] += 1
            }
            for kind in ["resolution"] {
                var actual: [String: Int] = [:]
                for row in rows where row.agreementId == "customer" && row.kind == kind { actual[row.month, default: 0] += row.ended }
                #expect(actual == expectedPerMonth, "\(kind): \(actual) vs \(expectedPerMonth)")
            }
            let resolvedCount = incidents.filter(\.wasResolved).count
            let firstResponses = rows.filter { $0.agreementId == "customer" && $0.kind == "first-response" }.reduce(0) { $0 + $1.ended }
            #expect(firstResponses == resolvedCount, "a first response is given by resolving, at the latest")
            #expect(rows.allSatisfy { $0.met + $0.breached == $0.ended })

            // The report (from rm_compliance) equals a computation over the clocks themselves:
            // counts exactly, means to the microsecond, 90th percentiles to within 1%.
            let direct = try await db.client.query("""
                SELECT COALESCE(agreement_id, 'customer') || '|' || kind || '|' || to_char(stopped_at AT TIME ZONE 'UTC', 'YYYY-MM'),
                       count(*), count(*) FILTER (WHERE status = 'met'),
                       (avg(extract(epoch FROM stopped_at - started_at) - paused_seconds) / 60)::float8,
                       (percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM stopped_at - started_at) - paused_seconds) / 60)::float8,
                       (avg(elapsed_seconds) / 60)::float8,
                       (percentile_cont(0.9) WITHIN GROUP (ORDER BY elapsed_seconds) / 60)::float8
                FROM rm_sla_clocks WHERE status IN ('met', 'breached') GROUP BY 1
                """)
            #expect(direct.count == rows.count)
            for expected in direct {
                let key = try expected.decode(String.self, at: 0)
                let row = try #require(rows.first { "\($0.agreementId)|\($0.kind)|\($0.month)" == key })
                let ended = Int(try expected.decode(Int64.self, at: 1)), met = Int(try expected.decode(Int64.self, at: 2))
                #expect(row.ended == ended && row.met == met, "\(key)")
                for (actual, column) in [(row.meanCalendarMinutes, 3), (row.meanBusinessMinutes, 5)] {
                    #expect(abs(try #require(actual) - (try expected.decode(Double.self, at: column))) < 1e-6, "\(key) column \(column)")
                }
                for (actual, column) in [(row.p90CalendarMinutes, 4), (row.p90BusinessMinutes, 6)] {
                    let exact = try expected.decode(Double.self, at: column)
                    #expect(abs(try #require(actual) - exact) <= max(0.01 * abs(exact), 1.0 / 60), "\(key) column \(column): \(actual!) vs \(exact)")
                }
            }
            // A range that covers its months only in part is counted from the clocks, with the
            // same arithmetic: the same figures.
            let busiest = try #require(expectedPerMonth.max { $0.value < $1.value }?.key)
            let (monthStart, monthEnd) = try #require(ComplianceReports.monthRange(busiest))
            let whole = try await reports.compliance(.init(from: monthStart, to: monthEnd, by: [.priority, .category]))
            let counted = try await reports.compliance(.init(from: monthStart.addingTimeInterval(0.000_001), to: monthEnd, by: [.priority, .category]))
            #expect(try await db.client.query("SELECT count(*) FROM rm_sla_clocks WHERE stopped_at = \(monthStart)")[0].decode(Int64.self, at: 0) == 0)
            #expect(!whole.isEmpty)
            #expect(counted == whole)

            // Calendar-time targets, computed from the CSV alone for the plain incidents.
            let targets: [String: (firstResponse: TimeInterval?, resolution: TimeInterval?)] = [
                "1 - Critical": (15 * 60, 4 * 3600), "2 - High": (30 * 60, nil),
            ]
            var compared = 0
            var mismatches: [String] = []
            for incident in incidents where incident.isPlain {
                guard let target = targets[incident.rows[0].priority] else { continue }
                let took = incident.lastResolution!.timeIntervalSince(incident.openedAt)
                let id = TicketStore.ticketId(source: "servicenow", externalReference: incident.number)
                for (clock, limit) in [("customer/first-response", target.firstResponse), ("customer/resolution", target.resolution)] {
                    guard let limit else { continue }
                    let status = try await db.client.query("""
                        SELECT status FROM rm_sla_clocks WHERE ticket_id = \(id) AND clock_id = \(clock)
                        """).first?.decode(String.self, at: 0)
                    let expected = took <= limit ? "met" : "breached"
                    compared += 1
                    if status != expected { mismatches.append("\(incident.number) \(clock): \(status ?? "none"), expected \(expected)") }
                }
            }
            #expect(compared > 0)
            #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")

            // How the verdicts compare with the file's own made_sla (for the note).
            var agree = 0, ourMetTheirMissed = 0, ourMissedTheirMet = 0
            for incident in incidents where incident.wasResolved {
                let id = TicketStore.ticketId(source: "servicenow", externalReference: incident.number)
                let status = try await db.client.query("""
                    SELECT status FROM rm_sla_clocks WHERE ticket_id = \(id) AND clock_id = 'customer/resolution'
                    """).first?.decode(String.self, at: 0)
                let ours = status == "met"
                let theirs = incident.rows.last!.madeSLA
                if ours == theirs { agree += 1 } else if ours { ourMetTheirMissed += 1 } else { ourMissedTheirMet += 1 }
            }
            print("made_sla comparison over \(resolvedCount) resolved incidents: agree \(agree), Baton met/file missed \(ourMetTheirMissed), Baton missed/file met \(ourMissedTheirMet); calendar-time verdicts compared with the CSV: \(compared)")
        }
    }
}
