import BatonDomain
import EventStore
import Foundation
import Postgres

/// Reads the agreements and the service policy recorded in the log (`agreement-<id>`
/// streams and `service-policy`): what routing and SLA clocks are computed with.
public enum AgreementLog {
    /// The stream of the service desk's policy.
    public static let policyStream = "service-policy"
    /// Every agreement stream starts with this.
    public static let agreementStreamPrefix = "agreement-"

    /// True for the streams whose events change the agreement set.
    public static func isAgreementStream(_ stream: String) -> Bool {
        stream == policyStream || stream.hasPrefix(agreementStreamPrefix)
    }

    /// The policy and agreements as recorded up to `position` (inclusive); nil when no
    /// policy has been recorded yet.
    public static func agreementSet(upTo position: Int64 = .max, on connection: PostgresConnection) async throws -> AgreementSet? {
        let (policy, agreements) = try await read(upTo: position, on: connection)
        return policy.map { AgreementSet(policy: $0, agreements: agreements) }
    }

    /// The position of the last policy or agreement event; 0 when there is none. An index
    /// lookup (`events_agreement_log`).
    public static func lastPosition(on connection: PostgresConnection) async throws -> Int64 {
        try await connection.query("SELECT max(position) FROM events WHERE \(unescaped: indexedStreams)")
            .first?.decode(Int64?.self, at: 0) ?? 0
    }

    /// Every recorded agreement version up to `position`, ordered by id then version.
    public static func agreements(upTo position: Int64 = .max, on connection: PostgresConnection) async throws -> [Agreement] {
        try await read(upTo: position, on: connection).agreements
    }

    /// The policy recorded last and every agreement version, in one read of their streams.
    private static func read(upTo position: Int64, on connection: PostgresConnection) async throws -> (policy: ServicePolicySet?, agreements: [Agreement]) {
        var fold = Fold()
        for event in try await recorded(upTo: position, on: connection) { try fold.add(event) }
        return (fold.policy, fold.agreements)
    }

    /// The agreement set after each agreement or policy event up to `position`.
    public static func timeline(upTo position: Int64, on connection: PostgresConnection) async throws -> AgreementTimeline {
        var fold = Fold()
        var entries: [(position: Int64, set: AgreementSet?)] = []
        for event in try await recorded(upTo: position, on: connection) {
            try fold.add(event)
            entries.append((event.position, fold.policy.map { AgreementSet(policy: $0, agreements: fold.agreements) }))
        }
        return AgreementTimeline(entries: entries)
    }

    /// The policy's and the agreements' events up to `position`, in log order. The WHERE
    /// clause is the predicate of the index `events_agreement_log` (schema/0019), written out
    /// with constants so that PostgreSQL can prove the index applies; with a bound stream
    /// name it would read the whole log.
    private static func recorded(upTo position: Int64, on connection: PostgresConnection) async throws -> [RecordedEvent] {
        try await connection.query("""
            SELECT \(unescaped: RecordedEvent.columns) FROM events
            WHERE (\(unescaped: indexedStreams)) AND position <= \(position)
            ORDER BY position
            """).map(RecordedEvent.init(row:))
    }

    /// The predicate of `events_agreement_log`, word for word.
    static let indexedStreams = "stream = '\(policyStream)' OR stream LIKE '\(agreementStreamPrefix)%'"

    /// The policy and agreement versions recorded by the events added so far, in log order.
    private struct Fold {
        var policy: ServicePolicySet?
        var byStream: [String: [AgreementEvent]] = [:]

        mutating func add(_ event: RecordedEvent) throws {
            if event.stream == AgreementLog.policyStream {
                policy = try ServicePolicySet.decode(schemaVersion: event.schemaVersion, data: Data(event.data))
            } else {
                byStream[event.stream, default: []].append(
                    try AgreementEvent.decode(typeName: event.type, schemaVersion: event.schemaVersion, data: Data(event.data)))
            }
        }

        /// Every agreement version, ordered by id then version.
        var agreements: [Agreement] {
            byStream.values.flatMap { AgreementEvent.versions(from: $0) }.sorted { ($0.id, $0.version) < ($1.id, $1.version) }
        }
    }
}

/// The agreement set as it stood at each position of the log.
public struct AgreementTimeline: Sendable {
    /// After the event at `position`, the set was `set` (nil before any policy).
    let entries: [(position: Int64, set: AgreementSet?)]

    /// The set as of `position` (inclusive).
    public func set(at position: Int64) -> AgreementSet? {
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].position <= position { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : entries[low - 1].set
    }
}

/// Decoding stored ticket events into the domain's form.
public enum TicketEvents {
    /// The prefix of every ticket stream (`ticket-<uuid>`).
    public static let streamPrefix = "ticket-"

    /// The domain's form of a stored event.
    public static func decode(_ recorded: RecordedEvent) throws -> Stamped<TicketEvent> {
        try decode(recorded, forFolding: false)
    }

    /// The domain's form of a stored event, for folding: routing traces left out (see
    /// ``TicketEvent/decodeForFolding(typeName:schemaVersion:data:)``).
    public static func decodeForFolding(_ recorded: RecordedEvent) throws -> Stamped<TicketEvent> {
        try decode(recorded, forFolding: true)
    }

    private static func decode(_ recorded: RecordedEvent, forFolding: Bool) throws -> Stamped<TicketEvent> {
        let data = Data(recorded.data)
        let event = forFolding
            ? try TicketEvent.decodeForFolding(typeName: recorded.type, schemaVersion: recorded.schemaVersion, data: data)
            : try TicketEvent.decode(typeName: recorded.type, schemaVersion: recorded.schemaVersion, data: data)
        guard let actor = Actor(rawValue: recorded.actor) else {
            throw EventDecodingError(
                code: .invalidData, typeName: recorded.type, schemaVersion: recorded.schemaVersion,
                detail: "actor \(recorded.actor) at position \(recorded.position)")
        }
        return Stamped(event, at: recorded.occurredAt, by: actor)
    }
}
