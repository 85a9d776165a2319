import EventStore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Time-ordered ids")
struct TimeOrderedUUIDTests {
    @Test("a version 7 id carries its millisecond, the version and the variant, and random bits from the generator")
    func layout() {
        var random = SplitMix64(state: 7)
        // 1,796,021,400,123 ms after 1970 (0x01A2_2B37_B23B); the 0.4 ms below it are dropped.
        let instant = Date(timeIntervalSince1970: 1_796_021_400.123_4)
        let id = UUID.timeOrdered(at: instant, using: &random)
        let text = id.uuidString.lowercased()
        let milliseconds = UInt64(text.prefix(8) + text.dropFirst(9).prefix(4), radix: 16)
        #expect(milliseconds == 1_796_021_400_123)
        #expect(text.dropFirst(14).first == "7", "version nibble of \(text)")
        #expect(["8", "9", "a", "b"].contains(text.dropFirst(19).first), "variant bits of \(text)")
        var same = SplitMix64(state: 7)
        #expect(UUID.timeOrdered(at: instant, using: &same) == id)
        var other = SplitMix64(state: 8)
        #expect(UUID.timeOrdered(at: instant, using: &other) != id)
        // Instants outside the 48 bits are held at their ends, not wrapped or trapped on.
        for (date, prefix) in [(Date(timeIntervalSince1970: 3e11), "ffffffff-ffff"), (Date(timeIntervalSince1970: 1e300), "ffffffff-ffff"),
                               (Date.distantPast, "00000000-0000"), (Date(timeIntervalSince1970: .nan), "00000000-0000")] {
            #expect(UUID.timeOrdered(at: date, using: &other).uuidString.lowercased().hasPrefix(prefix), "\(date)")
        }
    }

    @Test("ids made a millisecond or more apart sort in time order, as text, as bytes and in PostgreSQL")
    func order() async throws {
        let start = Date(timeIntervalSince1970: 1_796_021_400)
        let ids = (0..<200).map { UUID.timeOrdered(at: start.addingTimeInterval(Double($0) * 0.001 + 0.000_5)) }
        #expect(ids.map(\.uuidString) == ids.map(\.uuidString).sorted())
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            try await db.client.execute("CREATE TABLE ids (n int, id uuid)")
            for (n, id) in ids.enumerated().shuffled() { try await db.client.execute("INSERT INTO ids VALUES (\(n), \(id))") }
            let byId = try await db.client.query("SELECT n FROM ids ORDER BY id").map { try $0.decode(Int.self, at: 0) }
            #expect(byId == Array(0..<200))
        }
    }

    @Test("new events get time-ordered ids unless given one")
    func newEvents() {
        let before = UInt64(Date().timeIntervalSince1970 * 1_000)
        let id = NewEvent(type: "TicketCommented", data: Array("{}".utf8), occurredAt: Date(), actor: "system").id
        let text = id.uuidString.lowercased()
        #expect(text.dropFirst(14).first == "7")
        let milliseconds = UInt64(text.prefix(8) + text.dropFirst(9).prefix(4), radix: 16) ?? 0
        #expect(milliseconds >= before && milliseconds <= before + 60_000)
    }
}
