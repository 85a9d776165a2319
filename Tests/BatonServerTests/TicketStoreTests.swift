import BatonDomain
import BatonSchema
import BatonServer
import EventStore
import Foundation
import TestSupport
import Testing

@Suite("Tickets are recorded with their numbers, once per external ticket")
struct TicketStoreTests {
    let opened = ticketOpenedAt

    @Test("a recorded ticket's events read back as the domain wrote them, and its number finds it")
    func recordAndRead() async throws {
        try await TestDatabase.withFresh { db async throws in
            let tickets = TicketStore(store: db.eventStore)
            let number = try await tickets.allocateNumber()
            #expect(number == "T-1000")
            let id = TicketStore.ticketId(source: "portal", externalReference: "INC0000045")
            let events = try firstEvents(ticketId: id, number: number, reference: "INC0000045")
            let outcome = try await tickets.recordNewTicket(events: events)
            guard case .recorded(let result, let bytes) = outcome else { Issue.record("not recorded: \(outcome)"); return }
            #expect(result.streamVersion == Int64(events.count))
            // The size of the events' stored JSON.
            let stored = try await db.eventStore.readStream(TicketStore.streamName(id))
            #expect(bytes == stored.reduce(0) { $0 + $1.data.count })
            #expect(try await tickets.events(of: id) == events)
            #expect(try await tickets.ticketId(number: "T-1000") == id)
            #expect(try await tickets.ticketId(number: "1000") == id)
            #expect(try await tickets.ticketId(number: "T-9999") == nil)
            #expect(try await tickets.ticketId(number: "banana") == nil)
            let state = TicketDecider.fold(try await tickets.events(of: id))
            #expect(state?.number == "T-1000")
        }
    }

    @Test("a ticket without an external reference gets a new time-ordered id; one with a reference always the same id")
    func newTicketIds() {
        let first = TicketStore.newTicketId(source: "portal", externalReference: nil)
        let second = TicketStore.newTicketId(source: "portal", externalReference: nil)
        #expect(first != second)
        #expect(first.uuidString.dropFirst(14).first == "7", "\(first)")
        let referenced = TicketStore.newTicketId(source: "portal", externalReference: "INC0000045")
        #expect(referenced == TicketStore.ticketId(source: "portal", externalReference: "INC0000045"))
        #expect(referenced.uuidString.dropFirst(14).first == "5", "\(referenced)")
    }

    @Test("100 racing allocations get 100 numbers, none twice, from five blocks of the sequence: none read and left unused")
    func numbersRaced() async throws {
        try await TestDatabase.withFresh(maximumConnections: 8) { db async throws in
            let tickets = TicketStore(store: db.eventStore)
            let numbers = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<100 {
                    group.addTask { try #require(TicketStore.parseNumber(try await tickets.allocateNumber())) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(numbers).count == 100)
            let last = try await db.client.query("SELECT last_value FROM ticket_numbers")[0].decode(Int64.self, at: 0)
            #expect(last == (numbers.max() ?? 0) && last - (numbers.min() ?? 0) == 99, "numbers \(numbers.sorted()), sequence at \(last)")
        }
    }

    @Test("eight racing ingests of one external ticket record it once; the others learn its number")
    func deduplicatesExternalReference() async throws {
        try await TestDatabase.withFresh(maximumConnections: 8) { db async throws in
            let tickets = TicketStore(store: db.eventStore)
            let outcomes = try await withThrowingTaskGroup(of: TicketStore.RecordOutcome.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let number = try await tickets.allocateNumber()
                        let id = TicketStore.ticketId(source: "portal", externalReference: "INC0000062")
                        return try await tickets.recordNewTicket(
                            events: try firstEvents(ticketId: id, number: number, reference: "INC0000062"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let recorded = outcomes.compactMap { if case .recorded(let r, _) = $0 { r } else { nil } }
            let duplicates = outcomes.compactMap { if case .duplicate(let number, let id) = $0 { (number, id) } else { nil } }
            #expect(recorded.count == 1)
            #expect(duplicates.count == 7)
            let winner = try #require(try await tickets.existing(source: "portal", externalReference: "INC0000062"))
            #expect(duplicates.allSatisfy { $0.0 == winner.number && $0.1 == winner.ticketId })
            let streams = try await db.client.query("SELECT count(*) FROM event_streams WHERE stream LIKE 'ticket-%'")[0].decode(Int.self, at: 0)
            #expect(streams == 1)
        }
    }

    @Test("the append that opens a ticket indexes it; an append that loses its race indexes nothing")
    func indexedByTheOpeningAppend() async throws {
        try await TestDatabase.withFresh { db async throws in
            let tickets = TicketStore(store: db.eventStore)
            let id = UUID()
            let number = try await tickets.allocateNumber()
            let events = try firstEvents(ticketId: id, number: number, reference: "INC0000071").map(TicketStore.newEvent)
            // Straight to the event store: no ticket code runs beside the append.
            _ = try await db.eventStore.append(to: TicketStore.streamName(id), expectedVersion: .noStream, events: events)
            let row = try #require(try await db.client.query(
                "SELECT ticket_id, source, external_reference, opened_at FROM ticket_index WHERE number = \(TicketStore.parseNumber(number)!)").first)
            #expect(try row.decode(UUID.self, at: 0) == id)
            #expect(try row.decode(String.self, at: 1) == "portal")
            #expect(try row.decode(String?.self, at: 2) == "INC0000071")
            #expect(try row.decode(Date.self, at: 3) == opened)

            // The same stream again: the append fails, and the second number is not indexed.
            let second = try await tickets.allocateNumber()
            let again = try firstEvents(ticketId: id, number: second, reference: "INC0000072").map(TicketStore.newEvent)
            await #expect(throws: WrongExpectedVersion.self) {
                try await db.eventStore.append(to: TicketStore.streamName(id), expectedVersion: .noStream, events: again)
            }
            #expect(try await tickets.ticketId(number: second) == nil)
            let indexed = try await db.client.query("SELECT count(*) FROM ticket_index")[0].decode(Int.self, at: 0)
            #expect(indexed == 1)
        }
    }

    @Test("migrating indexes the tickets opened before the index was written by the append")
    func migrationIndexesEarlierTickets() async throws {
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            let before = BatonSchema.migrations.filter { $0.name < "0013" }
            _ = try await Migrator(client: db.client, migrations: before).migrate()
            let tickets = TicketStore(store: db.eventStore)
            var ids: [String: UUID] = [:]
            for reference in ["INC0000081", "INC0000082"] {
                let id = UUID()
                let number = try await tickets.allocateNumber()
                ids[number] = id
                _ = try await db.eventStore.append(
                    to: TicketStore.streamName(id), expectedVersion: .noStream,
                    events: try firstEvents(ticketId: id, number: number, reference: reference).map(TicketStore.newEvent))
            }
            let unindexed = try await db.client.query("SELECT count(*) FROM ticket_index")[0].decode(Int.self, at: 0)
            #expect(unindexed == 0)
            _ = try await Migrator(client: db.client, migrations: BatonSchema.migrations).migrate()
            for (number, id) in ids {
                #expect(try await tickets.ticketId(number: number) == id)
            }
        }
    }
}
