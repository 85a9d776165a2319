import BatonDomain
import BatonProjections
import EventStore
import Foundation
import Postgres

/// Tickets as event streams (`ticket-<uuid>`), with their short numbers.
///
/// A ticket's first events (opened and routed; for an import, its whole history) are
/// appended in the same transaction that enters its number in `ticket_index`, so a ticket is
/// never visible half-made and an external ticket is never opened twice.
public struct TicketStore: Sendable {
    public let store: EventStore

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
        Self.formatNumber(try await store.client.query("SELECT nextval('ticket_numbers')")[0].decode(Int64.self, at: 0))
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
        return try await store.client.query("SELECT ticket_id FROM ticket_index WHERE number = \(number)").first?.decode(UUID.self, at: 0)
    }

    /// What recording a new ticket did.
    public enum RecordOutcome: Sendable, Equatable {
        case recorded(AppendResult)
        /// The source already sent this external ticket: nothing was recorded.
        case duplicate(number: String, ticketId: UUID)
        /// The command id had already opened a ticket: nothing was recorded.
        case repeatedCommand
    }

    private struct RepeatedCommand: Error {}

    /// Records a new ticket: its number in the index and its first events, in one transaction.
    ///
    /// - Parameters:
    ///   - events: the ticket's first events, starting with `TicketOpened`.
    ///   - externalReference: the source's own id for the ticket; a second ticket with the
    ///     same source and reference is a duplicate and records nothing.
    public func recordNewTicket(
        ticketId: UUID, number: String, source: String, externalReference: String?, openedAt: Date,
        events: [Stamped<TicketEvent>], commandId: UUID? = nil
    ) async throws -> RecordOutcome {
        guard let parsed = Self.parseNumber(number) else {
            preconditionFailure("ticket number \(number) was not made by allocateNumber()")
        }
        let newEvents = try events.map(Self.newEvent)
        do {
            return try await store.client.withTransaction { connection in
                let inserted = try await connection.execute("""
                    INSERT INTO ticket_index (number, ticket_id, source, external_reference, opened_at)
                    VALUES (\(parsed), \(ticketId), \(source), \(externalReference), \(openedAt))
                    """)
                precondition(inserted == 1)
                let result = try await store.append(
                    to: Self.streamName(ticketId), expectedVersion: .noStream, events: newEvents, commandId: commandId,
                    on: connection)
                // The command id opened a ticket before: roll the new number back out.
                if result.isDuplicate { throw RepeatedCommand() }
                return .recorded(result)
            }
        } catch is RepeatedCommand {
            return .repeatedCommand
        } catch let error as PostgresError where error.sqlState == SQLState.uniqueViolation && error.constraint == "ticket_index_source_external_reference_key" {
            guard let externalReference, let existing = try await existing(source: source, externalReference: externalReference) else { throw error }
            return .duplicate(number: existing.number, ticketId: existing.ticketId)
        }
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
}
