import BatonDomain
import BatonImport
import Foundation

/// Imports an exported incident log: each incident becomes one ticket whose whole history
/// is replayed as events with its original times, recorded in one transaction per ticket.
///
/// Re-running an import adds nothing: an incident already imported from the same source is
/// skipped (the ticket index is unique by source and external reference). One incident that
/// cannot be replayed is reported and skipped; the rest go on.
public struct TicketImporter: Sendable {
    public let tickets: TicketStore

    public init(tickets: TicketStore) {
        self.tickets = tickets
    }

    /// What an import did.
    public struct Summary: Sendable, Equatable, CustomStringConvertible {
        public var incidents = 0
        public var imported = 0
        public var events = 0
        public var alreadyImported = 0
        /// Incident number and why it was skipped.
        public var failures: [Failure] = []

        public struct Failure: Sendable, Equatable {
            public var incident: String
            public var reason: String
        }

        public var description: String {
            var text = "\(incidents) incidents: imported \(imported) tickets (\(events) events), \(alreadyImported) already imported, \(failures.count) failed"
            for failure in failures { text += "\n  \(failure.incident): \(failure.reason)" }
            return text
        }
    }

    /// Imports every incident of `file` read through `mapping`. `progress` is called after
    /// each incident with the number done and the total.
    public func importCSV(
        file: URL, mapping: ImportMapping, progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) async throws -> Summary {
        let incidents = try IncidentReplay.incidents(in: file, mapping: mapping)
        var summary = Summary(incidents: incidents.count)
        for (index, incident) in incidents.enumerated() {
            defer { progress?(index + 1, incidents.count) }
            if try await tickets.existing(source: mapping.source, externalReference: incident.number) != nil {
                summary.alreadyImported += 1
                continue
            }
            let ticketId = TicketStore.ticketId(source: mapping.source, externalReference: incident.number)
            let number = try await tickets.allocateNumber()
            let events: [Stamped<TicketEvent>]
            do {
                events = try IncidentReplay.events(for: incident, ticketId: ticketId, number: number, mapping: mapping)
            } catch {
                summary.failures.append(.init(incident: incident.number, reason: "\(error)"))
                continue
            }
            guard !events.isEmpty else { continue }
            switch try await tickets.recordNewTicket(events: events) {
            case .recorded:
                summary.imported += 1
                summary.events += events.count
            case .duplicate, .repeatedCommand:
                summary.alreadyImported += 1
            }
        }
        return summary
    }
}
