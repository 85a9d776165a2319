import BatonDomain
import BatonProjections
import Foundation
import Testing

@Suite("Ticket histories held in memory")
struct TicketHistoriesTests {
    /// An entry for a stream at `version` (its events are comments; only the count matters).
    static func entry(version: Int) -> TicketHistories.Entry {
        let comment = Stamped(TicketEvent.commentAdded(CommentAdded(text: "x", visibility: .internal)), at: Date(timeIntervalSince1970: 0), by: .system)
        return TicketHistories.Entry(history: Array(repeating: comment, count: version), lastPosition: Int64(version), placedPosition: nil)
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
}
