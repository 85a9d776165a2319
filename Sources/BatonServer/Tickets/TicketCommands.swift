import BatonDomain
import BatonProjections
import EventStore
import Foundation

/// Runs commands against tickets: read the ticket's events, decide with the domain, append
/// what was decided with the stream's version as the expected version.
///
/// When another writer appended first, the command is decided again against the new state:
/// if it still applies (two agents commenting at once) it goes through; if it no longer does
/// (two agents accepting at once) the domain's ``TicketError`` says why. A command retried
/// with the same command id answers as the first time did, even if the ticket moved on since.
public struct TicketCommands: Sendable {
    public let tickets: TicketStore
    public let decider: TicketDecider
    /// How many times a command is decided again after losing a race. Default 5.
    public var maximumAttempts = 5
    /// The ticket streams held in memory, shared with the projection and the lease path: a
    /// command reads only the events after those held, and stores what it appended. Nil:
    /// every command reads its ticket's whole stream.
    public let histories: TicketHistories?

    public init(tickets: TicketStore, decider: TicketDecider = TicketDecider(), histories: TicketHistories? = nil) {
        self.tickets = tickets
        self.decider = decider
        self.histories = histories
    }

    /// What a command did.
    public struct Outcome: Sendable, Equatable {
        /// The events the command appended (empty when it changed nothing).
        public var events: [Stamped<TicketEvent>]
        /// The ticket after the command.
        public var ticket: Ticket
        /// True when this command id had been executed before: nothing new was appended.
        public var isDuplicate: Bool
    }

    /// No ticket has this id.
    public struct TicketNotFound: Error, Sendable, Equatable, CustomStringConvertible {
        public var ticketId: UUID
        public var description: String { "no ticket has id \(ticketId.uuidString.lowercased())" }
    }

    /// The command id was already used for a command on another ticket: nothing was done.
    public struct CommandIdReused: Error, Sendable, Equatable, CustomStringConvertible {
        public var commandId: UUID
        public var description: String { "command id \(commandId.uuidString.lowercased()) was already used for a command on another ticket" }
    }

    /// Executes `command` on the ticket by `actor` at `now`.
    ///
    /// - Throws: ``TicketNotFound``; ``TicketError`` when the domain refuses the command;
    ///   `WrongExpectedVersion` when the ticket kept changing through every attempt.
    public func execute(
        _ command: TicketCommand, on ticketId: UUID, by actor: Actor, at now: Date, commandId: UUID? = nil
    ) async throws -> Outcome {
        try await execute(command, on: ticketId, by: actor, at: now, commandId: commandId, then: { _ in nil })
    }

    /// Executes `command`, then the command `followUp` asks for given the ticket after it
    /// (for example, routing a ticket its vendor just rejected), appending the events of both
    /// in one append: nobody ever sees the ticket between the two.
    ///
    /// `require` is checked against the state each attempt decides on, so a condition it
    /// checks holds at the moment of the append (the expected version guarantees that).
    public func execute(
        _ command: TicketCommand, on ticketId: UUID, by actor: Actor, at now: Date, commandId: UUID? = nil,
        require: (Ticket) throws -> Void = { _ in },
        then followUp: (Ticket) async throws -> (command: TicketCommand, actor: Actor)?
    ) async throws -> Outcome {
        if let commandId, let earlier = try await recordedOutcome(of: commandId, on: ticketId) {
            return earlier
        }
        let stream = TicketStore.streamName(ticketId)
        var attempt = 0
        while true {
            attempt += 1
            // The events held, and those after them in the log (events never change: what is
            // held is the stream as far as it goes). The state decides; routing traces (most of
            // a routed event's bytes) never enter it.
            let held = histories?.entry(stream) ?? TicketHistories.Entry()
            let entry = try held.appending(try await tickets.store.readStream(stream, fromVersion: Int64(held.version) + 1))
            guard let state = TicketDecider.fold(entry.history), entry.version > 0 else {
                throw TicketNotFound(ticketId: ticketId)
            }
            let version = Int64(entry.version)
            try require(state)
            var decided = try decider.decide(command, state: state, by: actor, at: now)
            guard !decided.isEmpty else {
                return Outcome(events: [], ticket: state, isDuplicate: false)
            }
            let after = decided.reduce(state) { TicketDecider.evolve($0, $1) } ?? state
            if let next = try await followUp(after) {
                decided += try decider.decide(next.command, state: after, by: next.actor, at: now)
            }
            do {
                let newEvents = try decided.map(TicketStore.newEvent)
                let result = try await tickets.store.append(to: stream, expectedVersion: .exact(version), events: newEvents, commandId: commandId)
                if result.isDuplicate, let commandId {
                    // The same command raced itself and the other attempt won: answer as it did.
                    guard let earlier = try await recordedOutcome(of: commandId, on: ticketId) else {
                        throw CommandIdReused(commandId: commandId)
                    }
                    return earlier
                }
                let ticket = decided.reduce(state) { TicketDecider.evolve($0, $1) } ?? state
                // As the projection would keep it, so that the next command, the projection and
                // the lease path need not read it back.
                histories?.keep(
                    entry.appending(written: decided, at: result.positions, bytes: newEvents.dataBytes), for: stream, folding: ticket)
                return Outcome(events: decided, ticket: ticket, isDuplicate: false)
            } catch let conflict as WrongExpectedVersion {
                if attempt >= maximumAttempts { throw conflict }
            }
        }
    }

    /// The first answer to a command id already executed on this ticket, if any: its events,
    /// and the ticket as they left it.
    public func recordedOutcome(of commandId: UUID, on ticketId: UUID) async throws -> Outcome? {
        let earlier = try await tickets.store.events(ofCommand: commandId)
        guard let last = earlier.last, last.stream == TicketStore.streamName(ticketId) else { return nil }
        let history = try await tickets.store.readStream(last.stream).filter { $0.streamVersion <= last.streamVersion }
        guard let ticket = TicketDecider.fold(try history.map(TicketStore.decode)) else { return nil }
        return Outcome(events: try earlier.map(TicketStore.decode), ticket: ticket, isDuplicate: true)
    }
}
