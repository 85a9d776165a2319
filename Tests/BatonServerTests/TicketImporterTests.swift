import BatonDomain
import BatonImport
import BatonServer
import EventStore
import Foundation
import TestSupport
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
/// The sample export lives in `shared/data/`, beside the repository.
let serviceNowSample = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data/servicenow_incident_event_log_sample.csv")
let serviceNowMapping = repositoryRoot.appendingPathComponent("deploy/examples/servicenow-mapping.yaml")

@Suite("Importing the ServiceNow sample into the event store")
struct TicketImporterTests {
    /// The last row's state of each incident, read straight from the CSV (no Baton code).
    func lastStates() throws -> [String: String] {
        let text = try String(contentsOf: serviceNowSample, encoding: .utf8)
        var last: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            last[String(fields[0])] = String(fields[1])
        }
        return last
    }

    @Test("890 incidents become 890 tickets with every replayed event stored; their final states match the file; re-running adds nothing")
    func importSample() async throws {
        let mapping = try ImportMapping.load(contentsOf: serviceNowMapping)
        let expectedStates = try lastStates()
        #expect(expectedStates.count == 890)
        try await TestDatabase.withFresh { db async throws in
            let tickets = TicketStore(store: db.eventStore)
            let importer = TicketImporter(tickets: tickets)
            let summary = try await importer.importCSV(file: serviceNowSample, mapping: mapping)
            #expect(summary.incidents == 890)
            #expect(summary.imported == 890)
            #expect(summary.failures.isEmpty)
            #expect(try await db.eventStore.headPosition() == Int64(summary.events))

            // Each placement says it came from the import, not from routing by agreement.
            let placements = try await db.client.query("""
                SELECT count(*) FROM events WHERE type = 'TicketRouted' AND data::text LIKE '%imported from servicenow%'
                """)[0].decode(Int.self, at: 0)
            #expect(placements == 890)

            let indexed = try await db.client.query("SELECT count(*) FROM ticket_index WHERE source = 'servicenow'")[0].decode(Int.self, at: 0)
            #expect(indexed == 890)
            let stateNames: [String: TicketStatus] = ["Closed": .closed, "Resolved": .resolved]
            var checked = 0
            for (incident, state) in expectedStates {
                let found = try #require(try await tickets.existing(source: "servicenow", externalReference: incident))
                let ticket = try #require(TicketDecider.fold(try await tickets.events(of: found.ticketId)))
                #expect(ticket.status == stateNames[state], "\(incident) ends \(state) in the file but \(ticket.status) in Baton")
                #expect(ticket.number == found.number)
                checked += 1
            }
            #expect(checked == 890)

            let again = try await importer.importCSV(file: serviceNowSample, mapping: mapping)
            #expect(again.imported == 0)
            #expect(again.alreadyImported == 890)
            #expect(try await db.eventStore.headPosition() == Int64(summary.events))
            #expect(try await db.eventStore.verify().isIntact)
        }
    }
}
