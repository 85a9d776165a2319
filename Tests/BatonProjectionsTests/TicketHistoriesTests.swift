import BatonDomain
import BatonProjections
import Foundation
import Synchronization
import TestSupport
import Testing

@Suite("Ticket histories held in memory")
struct TicketHistoriesTests {
    /// An entry for a stream at `version`, of `bytes` (its events are comments; only the count
    /// and the size matter).
    static func entry(version: Int, bytes: Int = 10) -> TicketHistories.Entry {
        let comment = Stamped(TicketEvent.commentAdded(CommentAdded(text: "x", visibility: .internal)), at: Date(timeIntervalSince1970: 0), by: .system)
        return TicketHistories.Entry().appending(written: Array(repeating: comment, count: version), at: (0..<version).map { Int64($0 + 1) }, bytes: bytes)
    }

    @Test("never holds more than its budget, and keeps the tickets read most recently")
    func boundedAndRecent() {
        let histories = TicketHistories(budget: 1_000)
        histories.store(Self.entry(version: 1), for: "ticket-kept")
        for i in 0..<1_000 {
            histories.store(Self.entry(version: 1), for: "ticket-\(i)")
            // Read now and then, the first ticket outlives a thousand others.
            if i % 25 == 0 { #expect(histories.entry("ticket-kept") != nil, "dropped after \(i) others") }
            #expect(histories.bytes <= 1_000)
            #expect(histories.bytes == histories.count * 10)
        }
        #expect(histories.count >= 50)
        #expect(histories.entry("ticket-kept")?.version == 1)
        // The oldest of those never read are gone; the newest are held.
        #expect(histories.entry("ticket-0") == nil)
        #expect(histories.entry("ticket-999") != nil)
    }

    @Test("a generation dropped to make room, by a store or by a read, goes whole to the reclaimer, not freed by the caller")
    func droppedGenerationsAreReclaimed() {
        let reclaimed = Mutex<[[String]]>([])
        // Half the budget, one generation, is ten entries of 10 bytes.
        let histories = TicketHistories(budget: 200) { dropped in
            let streams = dropped.keys.sorted()
            reclaimed.withLock { $0.append(streams) }
        }
        let names = (0..<30).map { "ticket-\($0)" }
        // The eleventh makes the first ten the older generation; the twenty-first drops them.
        for name in names[0..<20] { histories.store(Self.entry(version: 1), for: name) }
        #expect(reclaimed.withLock { $0 }.isEmpty)
        histories.store(Self.entry(version: 1), for: names[20])
        #expect(reclaimed.withLock { $0 } == [names[0..<10].sorted()])
        #expect(histories.entry(names[0]) == nil)
        #expect(histories.count == 11)

        // A read moves an older entry to the newer generation: the one that does not fit there
        // drops the rest of the older one.
        for name in names[21..<29] { histories.store(Self.entry(version: 1), for: name) }
        #expect(histories.entry(names[10]) != nil)
        #expect(reclaimed.withLock { $0.count } == 1)
        #expect(histories.entry(names[11]) != nil)
        #expect(reclaimed.withLock { $0 } == [names[0..<10].sorted(), names[12..<20].sorted()])
        #expect(histories.count == 11)
        #expect(histories.bytes == 110)
    }

    @Test("tickets stored again as they go on are counted at their new size, and the budget still holds")
    func storedAgainAsTheyGrow() {
        let histories = TicketHistories(budget: 2_000)
        var rng = SplitMix64(state: 11)
        var versions: [String: Int] = [:]
        for step in 0..<3_000 {
            let stream = "ticket-\(Int.random(in: 0..<60, using: &rng))"
            let version = (versions[stream] ?? 0) + 1
            versions[stream] = version
            histories.store(Self.entry(version: version, bytes: 10 + version % 7 * 5 + Int.random(in: 0...20, using: &rng)), for: stream)
            #expect(histories.bytes <= 2_000, "step \(step)")
            if step % 100 == 99 {
                // What is held adds up to the bytes counted, each at the version last stored.
                // Read without reads' effects: a read moves an entry to the newer generation,
                // and reading them all in turn could drop some already counted.
                let held = histories.held
                for (stream, entry) in held { #expect(entry.version == versions[stream], "\(stream)") }
                #expect(held.values.reduce(0) { $0 + $1.bytes } == histories.bytes, "step \(step)")
                #expect(held.count == histories.count)
                #expect(histories.count > 20)
            }
        }
    }

    @Test("an entry is replaced only by one further along; forget drops it; one too large, or a budget of 0, holds nothing")
    func furtherAlongOnly() {
        let histories = TicketHistories(budget: 1_600)
        histories.store(Self.entry(version: 3), for: "ticket-a")
        histories.store(Self.entry(version: 2), for: "ticket-a")
        #expect(histories.entry("ticket-a")?.version == 3)
        histories.store(Self.entry(version: 5), for: "ticket-a")
        #expect(histories.entry("ticket-a")?.version == 5)
        #expect(histories.bytes == 10)
        histories.forget("ticket-a")
        #expect(histories.entry("ticket-a") == nil)
        #expect(histories.bytes == 0)
        // More than a sixteenth of the budget: not held, and what was held is dropped.
        histories.store(Self.entry(version: 1, bytes: 100), for: "ticket-b")
        #expect(histories.entry("ticket-b")?.version == 1)
        histories.store(Self.entry(version: 2, bytes: 101), for: "ticket-b")
        #expect(histories.entry("ticket-b") == nil)
        #expect(histories.bytes == 0)

        let none = TicketHistories(budget: 0)
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
        let entry = TicketHistories.Entry().appending(written: events, at: [10, 12, 15], bytes: 900)
        #expect(entry.version == 3)
        #expect(entry.lastPosition == 15)
        #expect(entry.placedPosition == 12)
        #expect(entry.bytes == 900)
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

    @Test("instants in the payloads of events stored by their writer read as the log gives them back: to the millisecond")
    func payloadInstantsAsWritten() throws {
        let at = Date(timeIntervalSince1970: 1_773_000_000.123_456_7)
        let later = Date(timeIntervalSince1970: 1_773_003_600.987_654_3)
        let events: [Stamped<TicketEvent>] = [
            Stamped(.leased(TicketLeased(holder: Actor(rawValue: "vendor:northwind")!, expiresAt: later)), at: at, by: .system),
            Stamped(.putOnHold(TicketPutOnHold(reason: .awaitingCustomer, until: later, note: nil)), at: at, by: .system),
            Stamped(.putOnHold(TicketPutOnHold(reason: .awaitingCustomer, until: nil, note: nil)), at: at, by: .system),
            Stamped(.slaWarningReached(SLAWarningReached(clockId: "customer/resolution", threshold: 0.5, dueAt: later)), at: at, by: .system),
            Stamped(.slaBreached(SLABreached(clockId: "customer/resolution", dueAt: later)), at: at, by: .system),
        ]
        let entry = TicketHistories.Entry().appending(written: events, at: [1, 2, 3, 4, 5], bytes: 500)
        for (held, written) in zip(entry.history, events) {
            let logged = try TicketEvent.decodeForFolding(
                typeName: written.event.typeName, schemaVersion: written.event.schemaVersion, data: Data(written.event.encodedData()))
            #expect(held.event == logged)
        }
        guard case .leased(let leased) = entry.history[0].event else { Issue.record("not leased"); return }
        #expect(leased.expiresAt == Date(timeIntervalSince1970: 1_773_003_600.987))
    }
}
