import BatonDomain
import BatonProjections
import Foundation
import Testing

@Suite("Ticket histories held in memory")
struct TicketHistoriesTests {
    /// An entry for a stream at `version` (its events are comments; only the count matters).
    static func entry(version: Int) -> TicketHistories.Entry {
        let comment = Stamped(TicketEvent.commentAdded(CommentAdded(text: "x", visibility: .internal)), at: Date(timeIntervalSince1970: 0), by: .system)
        return TicketHistories.Entry().appending(written: Array(repeating: comment, count: version), at: (0..<version).map { Int64($0 + 1) })
    }

    @Test("never holds more than its capacity, and keeps the tickets read most recently")
    func boundedAndRecent() {
        let histories = TicketHistories(capacity: 100)
        histories.store(Self.entry(version: 1), for: "ticket-kept")
        for i in 0..<1_000 {
            histories.store(Self.entry(version: 1), for: "ticket-\(i)")
            // Read now and then, the first ticket outlives a thousand others.
            if i % 25 == 0 { #expect(histories.entry("ticket-kept") != nil, "dropped after \(i) others") }
            #expect(histories.count <= 100)
        }
        #expect(histories.count >= 50)
        #expect(histories.entry("ticket-kept")?.version == 1)
        // The oldest of those never read are gone; the newest are held.
        #expect(histories.entry("ticket-0") == nil)
        #expect(histories.entry("ticket-999") != nil)
    }

    @Test("an entry is replaced only by one further along; forget drops it; capacity 0 holds nothing")
    func furtherAlongOnly() {
        let histories = TicketHistories(capacity: 10)
        histories.store(Self.entry(version: 3), for: "ticket-a")
        histories.store(Self.entry(version: 2), for: "ticket-a")
        #expect(histories.entry("ticket-a")?.version == 3)
        histories.store(Self.entry(version: 5), for: "ticket-a")
        #expect(histories.entry("ticket-a")?.version == 5)
        histories.forget("ticket-a")
        #expect(histories.entry("ticket-a") == nil)

        let none = TicketHistories(capacity: 0)
        none.store(Self.entry(version: 1), for: "ticket-a")
        #expect(none.entry("ticket-a") == nil)
        #expect(none.count == 0)
    }

    @Test("events stored by their writer read as the log gives them back: instants to the microsecond, no routing trace; prefixes keep their positions")
    func asWritten() throws {
        let at = Date(timeIntervalSince1970: 1_773_000_000.123_456_7)
        let assignment = QueueAssignment(queue: "northwind-l1", agreementId: "northwind", agreementVersion: 1, vendorId: "northwind")
        let routed = TicketRouted(
            assignment: assignment, cause: .opened, summary: "Routed to northwind-l1",
            trace: [RoutingTraceLine(outcome: "chosen", agreementId: "northwind", agreementVersion: 1, reason: "in-force", explanation: "it was in force")])
        let events = [
            Stamped(TicketEvent.commentAdded(CommentAdded(text: "x", visibility: .internal)), at: at, by: .system),
            Stamped(TicketEvent.routed(routed), at: at, by: .system),
            Stamped(TicketEvent.commentAdded(CommentAdded(text: "y", visibility: .internal)), at: at, by: .system),
        ]
        let entry = TicketHistories.Entry().appending(written: events, at: [10, 12, 15])
        #expect(entry.version == 3)
        #expect(entry.lastPosition == 15)
        #expect(entry.placedPosition == 12)
        #expect(entry.history.allSatisfy { $0.occurredAt == Date(timeIntervalSince1970: 1_773_000_000.123_457) })
        guard case .routed(let stored) = entry.history[1].event else { Issue.record("not routed"); return }
        #expect(stored.trace.isEmpty)
        #expect(stored.assignment == assignment)
        let first = entry.prefix(1)
        #expect(first.version == 1)
        #expect(first.lastPosition == 10)
        #expect(first.placedPosition == nil)
        #expect(entry.prefix(5).version == 3)
    }
}
