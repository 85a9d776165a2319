import BatonDomain
import BatonProjections
import Crypto
import EventStore
import Foundation
import Postgres
import Synchronization

/// Tickets as event streams (`ticket-<uuid>`), with their short numbers.
///
/// A ticket's first events (opened and routed; for an import, its whole history) are
/// appended in one transaction, which also enters its number in `ticket_index` (a trigger
/// on `TicketOpened`), so a ticket is never visible half-made and an external ticket is
/// never opened twice.
public struct TicketStore: Sendable {
    public let store: EventStore
    let numbers = NumberBlock()

    public init(store: EventStore) {
        self.store = store
    }

    /// The stream of a ticket.
    public static func streamName(_ ticketId: UUID) -> String {
        "ticket-\(ticketId.uuidString.lowercased())"
    }

    /// `T-1042` for 1042.
    public static func formatNumber(_ number: Int64) -> String { "T-\(number)" }

    /// 1042 for `T-1042` or `1042`; nil for anything else.
    public static func parseNumber(_ text: String) -> Int64? {
        let digits = text.uppercased().hasPrefix("T-") ? String(text.dropFirst(2)) : text
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let number = Int64(digits), number > 0 else { return nil }
        return number
    }

    /// Takes the next ticket number. Numbers of tickets that are never recorded are skipped,
    /// never reused.
    public func allocateNumber() async throws -> String {
        Self.formatNumber(try await numbers.next(from: store.client))
    }

    /// The ticket already opened for this external ticket, if any.
    public func existing(source: String, externalReference: String) async throws -> (number: String, ticketId: UUID)? {
        guard let row = try await store.client.query("""
            SELECT number, ticket_id FROM ticket_index WHERE source = \(source) AND external_reference = \(externalReference)
            """).first else { return nil }
        return (Self.formatNumber(try row.decode(Int64.self, at: 0)), try row.decode(UUID.self, at: 1))
    }

    /// The ticket with this number, if any.
    public func ticketId(number: String) async throws -> UUID? {
        guard let number = Self.parseNumber(number) else { return nil }
        // The index, else the read model (a ticket whose indexing was cut short by a crash).
        return try await store.client.query("""
            SELECT ticket_id FROM ticket_index WHERE number = \(number)
            UNION ALL SELECT ticket_id FROM rm_tickets WHERE number = \(number)
            LIMIT 1
            """).first?.decode(UUID.self, at: 0)
    }

    /// What recording a new ticket did.
    public enum RecordOutcome: Sendable, Equatable {
        /// Recorded: where, and the size of the events' stored JSON.
        case recorded(AppendResult, bytes: Int)
        /// The source already sent this external ticket: nothing was recorded.
        case duplicate(number: String, ticketId: UUID)
        /// The command id had already opened a ticket: nothing was recorded.
        case repeatedCommand
    }

    /// The id of the ticket opened for an external ticket. The same source and reference
    /// always give the same id, so two ingests of one external ticket race for one stream,
    /// and the event store's no-stream check lets exactly one of them open it.
    public static func ticketId(source: String, externalReference: String) -> UUID {
        var bytes = Array(SHA256.hash(data: Array("baton-ticket\u{1f}\(source)\u{1f}\(externalReference)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0f) | 0x50  // name-based, version 5 layout
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// The id for a new ticket: derived from its external reference when it has one, else new.
    public static func newTicketId(source: String, externalReference: String?) -> UUID {
        externalReference.map { ticketId(source: source, externalReference: $0) } ?? .timeOrdered()
    }

    /// Records a new ticket: its first events in one append (sharing the commit with other
    /// appends), which enters its number in the index.
    ///
    /// - Parameter events: the ticket's first events, starting with its `TicketOpened`, whose
    ///   ticket id (from ``newTicketId(source:externalReference:)``) names the stream and whose
    ///   number comes from ``allocateNumber()``. A second ticket with the same source and
    ///   external reference is a duplicate and records nothing.
    public func recordNewTicket(events: [Stamped<TicketEvent>], commandId: UUID? = nil) async throws -> RecordOutcome {
        guard case .opened(let opening) = events.first?.event else { preconditionFailure("a new ticket's first event is TicketOpened") }
        let ticketId = opening.ticketId
        precondition(Self.parseNumber(opening.number) != nil, "ticket number \(opening.number) was not made by allocateNumber()")
        if let externalReference = opening.details.externalReference {
            precondition(ticketId == Self.ticketId(source: opening.details.source, externalReference: externalReference),
                         "a ticket with an external reference takes the id TicketStore.ticketId(source:externalReference:) gives")
        }
        let newEvents = try events.map(Self.newEvent)
        let result: AppendResult
        do {
            result = try await store.append(to: Self.streamName(ticketId), expectedVersion: .noStream, events: newEvents, commandId: commandId)
        } catch is WrongExpectedVersion {
            // Opened before: by a racing ingest of the same external ticket, or by this very
            // ticket id.
            let first = try await store.readStream(Self.streamName(ticketId), limit: 1)
            guard let opened = try first.first.map(Self.decode), case .opened(let e) = opened.event else {
                throw NotATicketStream(stream: Self.streamName(ticketId))
            }
            return .duplicate(number: e.number, ticketId: ticketId)
        }
        return result.isDuplicate ? .repeatedCommand : .recorded(result, bytes: newEvents.dataBytes)
    }

    /// A ticket stream that does not start with `TicketOpened`.
    public struct NotATicketStream: Error, CustomStringConvertible {
        public var stream: String
        public var description: String { "stream \(stream) does not start with TicketOpened" }
    }

    /// A ticket's events, decoded.
    public func events(of ticketId: UUID) async throws -> [Stamped<TicketEvent>] {
        try await store.readStream(Self.streamName(ticketId)).map(Self.decode)
    }

    /// The store's form of a domain event.
    public static func newEvent(_ stamped: Stamped<TicketEvent>) throws -> NewEvent {
        NewEvent(
            type: stamped.event.typeName, schemaVersion: stamped.event.schemaVersion,
            data: Array(try stamped.event.encodedData()), occurredAt: stamped.occurredAt, actor: stamped.actor.rawValue)
    }

    /// The domain's form of a stored event.
    public static func decode(_ recorded: RecordedEvent) throws -> Stamped<TicketEvent> {
        try TicketEvents.decode(recorded)
    }

    /// The domain's form of a stored event, for folding into a state: routing traces left out.
    public static func decodeForFolding(_ recorded: RecordedEvent) throws -> Stamped<TicketEvent> {
        try TicketEvents.decodeForFolding(recorded)
    }
}

/// Ticket numbers taken from the sequence a block at a time: one query per block instead of
/// one per ticket. Numbers left in a block when batond stops are skipped, never reused, and
/// two replicas hand out numbers from different blocks, so numbers grow with time but not
/// strictly in opening order.
///
/// One block is read at a time: callers that find the block used up wait for the read under
/// way instead of each reading a block of their own, which under load skipped blocks by the
/// dozen. A lock, not an actor: a number is handed out without a hop to another executor.
final class NumberBlock: Sendable {
    static let size = 20

    private struct State {
        /// The block, ascending, and how many of it are handed out.
        var block: [Int64] = []
        var taken = 0
        var reading: Task<[Int64], any Error>?
    }

    private let state = Mutex(State())

    func next(from client: PostgresClient) async throws -> Int64 {
        while true {
            let (number, reading) = state.withLock { state -> (Int64?, Task<[Int64], any Error>?) in
                if state.taken < state.block.count {
                    state.taken += 1
                    return (state.block[state.taken - 1], nil)
                }
                if let reading = state.reading { return (nil, reading) }
                let reading = Task {
                    try await client.query("SELECT nextval('ticket_numbers') FROM generate_series(1, \(Self.size))")
                        .map { try $0.decode(Int64.self, at: 0) }.sorted()
                }
                state.reading = reading
                return (nil, reading)
            }
            if let number { return number }
            let result = await reading!.result
            // The first waiter back puts the block in place (the old one is used up: a read
            // starts only then); the others find it there.
            state.withLock { state in
                guard state.reading == reading else { return }
                state.reading = nil
                if case .success(let block) = result {
                    state.block = block
                    state.taken = 0
                }
            }
            _ = try result.get()
        }
    }
}
