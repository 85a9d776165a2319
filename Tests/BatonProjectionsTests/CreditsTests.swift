import BatonAgreementFiles
import BatonDomain
@testable import BatonProjections
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Service credits follow the agreement's clauses at their thresholds")
struct CreditsTests {
    /// Inserts `met` met and `breached` breached Northwind clocks of `kind` that ended in
    /// October 2026, and counts them in `rm_compliance` as the projection would.
    func clocks(_ client: PostgresClient, kind: String, met: Int, breached: Int) async throws {
        let stopped = ISO8601DateFormatter().date(from: "2026-10-15T12:00:00Z")!
        for i in 0..<(met + breached) {
            try await client.execute("""
                INSERT INTO rm_sla_clocks (ticket_id, clock_id, kind, level, agreement_id, agreement_version, vendor_id, queue, priority,
                    category, business_hours, started_at, due_at, stopped_at, stop_reason, status, paused_seconds, elapsed_seconds, target_seconds)
                VALUES (\(UUID()), \("assignment-1/\(kind)"), \(kind), 'northwind-helpdesk', 'northwind-helpdesk', 1, 'northwind', 'northwind-l1',
                    'P3', 'help-desk', false, \(stopped.addingTimeInterval(-3600)), \(stopped), \(stopped), 'fulfilled',
                    \(i < met ? "met" : "breached"), 0, 3600, 7200)
                """)
        }
        var changes = ComplianceChanges()
        for row in try await client.query("""
            SELECT \(unescaped: EndedClock.columns) FROM rm_sla_clocks WHERE kind = \(kind)
            """) {
            changes.add(try EndedClock(row: row))
        }
        try await client.withConnection { connection in try await connection.withSession { [changes] in try changes.write(into: "rm_compliance", in: $0) } }
    }

    @Test("exactly 95.0% owes nothing; just below owes 5%; below 90% owes 10%; first response below 90% adds 3%", arguments: [
        (19, 1, 10, 0, "0"),          // 95.0% resolution, 100% first response
        (18, 1, 10, 0, "1925"),       // 94.74%: 5% of 38,500
        (17, 2, 9, 1, "3850"),        // 89.47%: 10%; first response exactly 90.0%: nothing
        (17, 2, 8, 1, "5005"),        // 89.47%: 10%, first response 88.9%: +3%
    ])
    func thresholds(resolutionMet: Int, resolutionBreached: Int, responseMet: Int, responseBreached: Int, credit: String) async throws {
        let set = try AgreementsFile.load(contentsOf: repositoryRoot.appendingPathComponent("deploy/examples/agreements.yaml"))
        try await TestDatabase.withFresh { db async throws in
            try await clocks(db.client, kind: "resolution", met: resolutionMet, breached: resolutionBreached)
            try await clocks(db.client, kind: "first-response", met: responseMet, breached: responseBreached)
            let rows = try await ComplianceReports(client: db.client).credits(month: "2026-10", agreements: set)
            let northwind = try #require(rows.first { $0.agreementId == "northwind-helpdesk" })
            #expect(northwind.credit == Decimal(string: credit)!, "\(northwind.appliedClauses)")
            #expect(northwind.figures.first { $0.kind == "resolution" }?.ended == resolutionMet + resolutionBreached)
            // Nothing ended for the other agreements in October: they owe nothing.
            #expect(rows.filter { $0.agreementId != "northwind-helpdesk" }.allSatisfy { $0.credit == 0 })
            #expect(try await ComplianceReports(client: db.client).credits(month: "2026-09", agreements: set).allSatisfy { $0.credit == 0 })
        }
    }
}
