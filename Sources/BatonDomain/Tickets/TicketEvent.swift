import Foundation

/// Every fact that can be recorded in a ticket stream (`ticket-<uuid>`).
///
/// Use `typeName`/`schemaVersion`/`encodedData()` to store one and
/// `TicketEvent.decode(typeName:schemaVersion:data:)` to read one back.
public enum TicketEvent: Sendable, Hashable {
    /// See ``TicketOpened``.
    case opened(TicketOpened)
    /// See ``TicketRouted``.
    case routed(TicketRouted)
    /// See ``TicketReassigned``.
    case reassigned(TicketReassigned)
    /// See ``TicketLeased``.
    case leased(TicketLeased)
    /// See ``LeaseReleased``.
    case leaseReleased(LeaseReleased)
    /// See ``LeaseExpired``.
    case leaseExpired(LeaseExpired)
    /// See ``TicketAccepted``.
    case accepted(TicketAccepted)
    /// See ``TicketRejected``.
    case rejected(TicketRejected)
    /// See ``WorkStarted``.
    case workStarted(WorkStarted)
    /// See ``CommentAdded``.
    case commentAdded(CommentAdded)
    /// See ``TicketPutOnHold``.
    case putOnHold(TicketPutOnHold)
    /// See ``TicketResumed``.
    case resumed(TicketResumed)
    /// See ``PriorityChanged``.
    case priorityChanged(PriorityChanged)
    /// See ``TicketEscalated``.
    case escalated(TicketEscalated)
    /// See ``TicketResolved``.
    case resolved(TicketResolved)
    /// See ``TicketReopened``.
    case reopened(TicketReopened)
    /// See ``TicketClosed``.
    case closed(TicketClosed)
    /// See ``TicketCancelled``.
    case cancelled(TicketCancelled)
    /// See ``SLAWarningReached``.
    case slaWarningReached(SLAWarningReached)
    /// See ``SLABreached``.
    case slaBreached(SLABreached)

    /// Every stored type name, with its current schema version.
    public static let knownTypes: [String: Int] = [
        TicketOpened.typeName: TicketOpened.schemaVersion,
        TicketRouted.typeName: TicketRouted.schemaVersion,
        TicketReassigned.typeName: TicketReassigned.schemaVersion,
        TicketLeased.typeName: TicketLeased.schemaVersion,
        LeaseReleased.typeName: LeaseReleased.schemaVersion,
        LeaseExpired.typeName: LeaseExpired.schemaVersion,
        TicketAccepted.typeName: TicketAccepted.schemaVersion,
        TicketRejected.typeName: TicketRejected.schemaVersion,
        WorkStarted.typeName: WorkStarted.schemaVersion,
        CommentAdded.typeName: CommentAdded.schemaVersion,
        TicketPutOnHold.typeName: TicketPutOnHold.schemaVersion,
        TicketResumed.typeName: TicketResumed.schemaVersion,
        PriorityChanged.typeName: PriorityChanged.schemaVersion,
        TicketEscalated.typeName: TicketEscalated.schemaVersion,
        TicketResolved.typeName: TicketResolved.schemaVersion,
        TicketReopened.typeName: TicketReopened.schemaVersion,
        TicketClosed.typeName: TicketClosed.schemaVersion,
        TicketCancelled.typeName: TicketCancelled.schemaVersion,
        SLAWarningReached.typeName: SLAWarningReached.schemaVersion,
        SLABreached.typeName: SLABreached.schemaVersion,
    ]

    /// The stored type name, e.g. `"TicketOpened"`.
    public var typeName: String { payloadType.typeName }

    /// The schema version this build writes for the event's type.
    public var schemaVersion: Int { payloadType.schemaVersion }

    private var payloadType: any DomainEvent.Type { type(of: payload) }

    /// The payload struct.
    public var payload: any DomainEvent {
        switch self {
        case .opened(let e): e
        case .routed(let e): e
        case .reassigned(let e): e
        case .leased(let e): e
        case .leaseReleased(let e): e
        case .leaseExpired(let e): e
        case .accepted(let e): e
        case .rejected(let e): e
        case .workStarted(let e): e
        case .commentAdded(let e): e
        case .putOnHold(let e): e
        case .resumed(let e): e
        case .priorityChanged(let e): e
        case .escalated(let e): e
        case .resolved(let e): e
        case .reopened(let e): e
        case .closed(let e): e
        case .cancelled(let e): e
        case .slaWarningReached(let e): e
        case .slaBreached(let e): e
        }
    }

    /// The payload as stored JSON (camelCase keys, sorted, ISO 8601 dates).
    public func encodedData() throws -> Data {
        switch self {
        // Written on every ticket opened and every lease: by hand, the same bytes.
        case .opened(let e): Data(PayloadWriting.write(e))
        case .routed(let e): Data(PayloadWriting.write(e))
        case .leased(let e): Data(PayloadWriting.write(e))
        default: try EventJSON.encoder.encode(payload)
        }
    }

    /// As ``decode(typeName:schemaVersion:data:)``, but a ``TicketRouted`` comes back with an
    /// empty routing trace. Folding a ticket and computing its clocks never read the trace,
    /// and it is most of a routed event's bytes (one line per agreement considered), so
    /// projections decode events this way.
    public static func decodeForFolding(typeName: String, schemaVersion: Int, data: Data) throws(EventDecodingError) -> TicketEvent {
        guard typeName == TicketRouted.typeName, schemaVersion == TicketRouted.schemaVersion else {
            return try decode(typeName: typeName, schemaVersion: schemaVersion, data: data)
        }
        // The current shape without `trace`; its members are skipped unread.
        struct Untraced: Decodable {
            var assignment: QueueAssignment
            var cause: RoutingCause
            var summary: String
        }
        let e = try EventJSON.reportingInvalidData(typeName: typeName, schemaVersion: schemaVersion) {
            try PayloadJSONDecoder().decode(Untraced.self, from: data)
        }
        return .routed(TicketRouted(assignment: e.assignment, cause: e.cause, summary: e.summary, trace: []))
    }

    /// Decodes a stored payload. Unknown type names and newer schema versions are reported as
    /// ``EventDecodingError`` values, never a crash.
    public static func decode(typeName: String, schemaVersion: Int, data: Data) throws(EventDecodingError) -> TicketEvent {
        switch typeName {
        case TicketOpened.typeName: .opened(try EventJSON.decode(TicketOpened.self, schemaVersion: schemaVersion, data: data))
        case TicketRouted.typeName: .routed(try EventJSON.decode(TicketRouted.self, schemaVersion: schemaVersion, data: data))
        case TicketReassigned.typeName: .reassigned(try EventJSON.decode(TicketReassigned.self, schemaVersion: schemaVersion, data: data))
        case TicketLeased.typeName: .leased(try EventJSON.decode(TicketLeased.self, schemaVersion: schemaVersion, data: data))
        case LeaseReleased.typeName: .leaseReleased(try EventJSON.decode(LeaseReleased.self, schemaVersion: schemaVersion, data: data))
        case LeaseExpired.typeName: .leaseExpired(try EventJSON.decode(LeaseExpired.self, schemaVersion: schemaVersion, data: data))
        case TicketAccepted.typeName: .accepted(try EventJSON.decode(TicketAccepted.self, schemaVersion: schemaVersion, data: data))
        case TicketRejected.typeName: .rejected(try EventJSON.decode(TicketRejected.self, schemaVersion: schemaVersion, data: data))
        case WorkStarted.typeName: .workStarted(try EventJSON.decode(WorkStarted.self, schemaVersion: schemaVersion, data: data))
        case CommentAdded.typeName: .commentAdded(try EventJSON.decode(CommentAdded.self, schemaVersion: schemaVersion, data: data))
        case TicketPutOnHold.typeName: .putOnHold(try EventJSON.decode(TicketPutOnHold.self, schemaVersion: schemaVersion, data: data))
        case TicketResumed.typeName: .resumed(try EventJSON.decode(TicketResumed.self, schemaVersion: schemaVersion, data: data))
        case PriorityChanged.typeName: .priorityChanged(try EventJSON.decode(PriorityChanged.self, schemaVersion: schemaVersion, data: data))
        case TicketEscalated.typeName: .escalated(try EventJSON.decode(TicketEscalated.self, schemaVersion: schemaVersion, data: data))
        case TicketResolved.typeName: .resolved(try EventJSON.decode(TicketResolved.self, schemaVersion: schemaVersion, data: data))
        case TicketReopened.typeName: .reopened(try EventJSON.decode(TicketReopened.self, schemaVersion: schemaVersion, data: data))
        case TicketClosed.typeName: .closed(try EventJSON.decode(TicketClosed.self, schemaVersion: schemaVersion, data: data))
        case TicketCancelled.typeName: .cancelled(try EventJSON.decode(TicketCancelled.self, schemaVersion: schemaVersion, data: data))
        case SLAWarningReached.typeName: .slaWarningReached(try EventJSON.decode(SLAWarningReached.self, schemaVersion: schemaVersion, data: data))
        case SLABreached.typeName: .slaBreached(try EventJSON.decode(SLABreached.self, schemaVersion: schemaVersion, data: data))
        default:
            throw EventDecodingError(code: .unknownType, typeName: typeName, schemaVersion: schemaVersion, detail: "")
        }
    }
}
