import BatonDomain
import BatonProjections
import BatonServer
import EventStore
import Foundation
import TestSupport
import Testing

@Suite("Ticket commands: decide against the stream, append with its version, retry lost races")
struct TicketCommandsTests {
    let later = ticketOpenedAt.addingTimeInterval(600)

    @Test("a command appends what the domain decides and returns the new state")
    func executes() async throws {
        try await TestDatabase.withFresh { db async throws in
            let tickets = TicketStore(store: db.eventStore)
            let commands = TicketCommands(tickets: tickets)
            let id = try await recordTicket(tickets)
            let outcome = try await commands.execute(.accept, on: id, by: .agent("ada"), at: later)
            #expect(outcome.events.count >= 1)
            #expect(outcome.ticket.status == .accepted)
            #expect(TicketDecider.fold(try await tickets.events(of: id)) == outcome.ticket)
        }
    }

    @Test("8 agents accepting one ticket at once: exactly one succeeds, 7 are told it is already accepted")
    func racingAccepts() async throws {
        try await TestDatabase.withFresh(maximumConnections: 8) { db async throws in
            let tickets = TicketStore(store: db.eventStore)
            let commands = TicketCommands(tickets: tickets)
            let id = try await recordTicket(tickets)
            let before = try await db.eventStore.streamVersion(TicketStore.streamName(id)) ?? 0
            let results = await withTaskGroup(of: Result<TicketCommands.Outcome, any Error>.self) { group in
                for agent in 0..<8 {
                    group.addTask {
                        do { return .success(try await commands.execute(.accept, on: id, by: .agent("agent\(agent)"), at: later)) }
                        catch { return .failure(error) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let wins = results.compactMap { try? $0.get() }
            let refusals = results.compactMap { result -> TicketError? in
                if case .failure(let error) = result { return error as? TicketError }
                return nil
            }
            #expect(wins.count == 1)
            #expect(refusals.count == 7)
            #expect(refusals.allSatisfy { $0.status == .accepted && $0.command == .accept })
            let accepted = try await tickets.events(of: id).filter { if case .accepted = $0.event { true } else { false } }
            #expect(accepted.count == 1)
            #expect(try await db.eventStore.streamVersion(TicketStore.streamName(id)) == before + Int64(wins[0].events.count))
        }
    }

    @Test("8 agents commenting at once all get through: lost races are decided again")
    func racingComments() async throws {
        try await TestDatabase.withFresh(maximumConnections: 8) { db async throws in
            let tickets = TicketStore(store: db.eventStore)
            var patient = TicketCommands(tickets: tickets)
            patient.maximumAttempts = 20
            let commands = patient
            let id = try await recordTicket(tickets)
            let before = try await db.eventStore.streamVersion(TicketStore.streamName(id)) ?? 0
            try await withThrowingTaskGroup(of: Void.self) { group in
                for agent in 0..<8 {
                    group.addTask {
                        _ = try await commands.execute(.comment("note \(agent)", visibility: .internal), on: id, by: .agent("agent\(agent)"), at: later)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await db.eventStore.streamVersion(TicketStore.streamName(id)) == before + 8)
        }
    }

    @Test("with the streams held in memory, a command decides on what the log has past them, races as without, and stores what folds as the log does")
    func heldStreams() async throws {
        try await TestDatabase.withFresh(maximumConnections: 8) { db async throws in
            let tickets = TicketStore(store: db.eventStore)
            let histories = TicketHistories()
            var held = TicketCommands(tickets: tickets, histories: histories)
            held.maximumAttempts = 20
            let cached = held
            let plain = TicketCommands(tickets: tickets)
            let id = try await recordTicket(tickets)
            let stream = TicketStore.streamName(id)
            func logState() async throws -> Ticket? { TicketDecider.fold(try await tickets.events(of: id)) }

            _ = try await cached.execute(.accept, on: id, by: .agent("ada"), at: later)
            #expect(histories.entry(stream)?.version == 3)
            // Another writer moves the log past what is held; the next command sees it.
            _ = try await plain.execute(.startWork, on: id, by: .agent("ada"), at: later)
            let commented = try await cached.execute(.comment("checked the toner", visibility: .internal), on: id, by: .agent("ada"), at: later)
            #expect(commented.ticket.status == .inProgress)
            #expect(commented.ticket == (try await logState()))
            #expect(histories.entry(stream)?.version == 5)

            // Eight at once, each against what is held: all get through, none twice.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for agent in 0..<8 {
                    group.addTask {
                        _ = try await cached.execute(.comment("note \(agent)", visibility: .internal), on: id, by: .agent("agent\(agent)"), at: later)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await db.eventStore.streamVersion(stream) == 13)
            let entry = try #require(histories.entry(stream))
            #expect(entry.version == 13)
            #expect(TicketDecider.fold(entry.history) == (try await logState()))

            _ = try await cached.execute(.resolve(code: "fixed", note: "new drum"), on: id, by: .agent("ada"), at: later)
            _ = try await cached.execute(.close, on: id, by: .agent("ada"), at: later)
            #expect(histories.entry(stream) == nil)
        }
    }

    @Test("a retried command id answers as the first time did, even after the ticket moved on")
    func idempotentRetry() async throws {
        try await TestDatabase.withFresh { db async throws in
            let tickets = TicketStore(store: db.eventStore)
            let commands = TicketCommands(tickets: tickets)
            let id = try await recordTicket(tickets)
            let command = UUID()
            let first = try await commands.execute(.accept, on: id, by: .agent("ada"), at: later, commandId: command)
            _ = try await commands.execute(.comment("looking", visibility: .internal), on: id, by: .agent("ada"), at: later)
            let retry = try await commands.execute(.accept, on: id, by: .agent("ada"), at: later, commandId: command)
            #expect(retry.isDuplicate)
            #expect(retry.events == first.events)
            #expect(retry.ticket == first.ticket)
            // Without the id, accepting again is refused by the domain.
            await #expect(throws: TicketError.self) { try await commands.execute(.accept, on: id, by: .agent("ada"), at: later) }
        }
    }

    @Test("a command on a ticket that does not exist says so")
    func missingTicket() async throws {
        try await TestDatabase.withFresh { db async throws in
            let commands = TicketCommands(tickets: TicketStore(store: db.eventStore))
            let missing = UUID()
            let error = await #expect(throws: TicketCommands.TicketNotFound.self) {
                try await commands.execute(.accept, on: missing, by: .agent("ada"), at: later)
            }
            #expect(error?.ticketId == missing)
        }
    }
}
