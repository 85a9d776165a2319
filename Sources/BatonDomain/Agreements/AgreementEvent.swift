import Foundation

/// An agreement version was registered (the first version of an id).
public struct AgreementRegistered: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "AgreementRegistered"
    /// The terms.
    public var agreement: Agreement
    /// Creates the payload.
    public init(agreement: Agreement) { self.agreement = agreement }
}

/// A new version of an agreement was added.
public struct AgreementAmended: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "AgreementAmended"
    /// The new version's terms.
    public var agreement: Agreement
    /// What changed, for people.
    public var summary: String
    /// Creates the payload.
    public init(agreement: Agreement, summary: String) { self.agreement = agreement; self.summary = summary }
}

/// An agreement was terminated: every version ends at `effectiveTo` at the latest.
public struct AgreementTerminated: DomainEvent {
    /// The stored type name; never changes.
    public static let typeName = "AgreementTerminated"
    /// The agreement.
    public var agreementId: String
    /// When it stops applying.
    public var effectiveTo: Date
    /// Why.
    public var reason: String
    /// Creates the payload.
    public init(agreementId: String, effectiveTo: Date, reason: String) {
        self.agreementId = agreementId; self.effectiveTo = effectiveTo; self.reason = reason
    }
}

/// Every fact in an agreement stream (`agreement-<id>`).
public enum AgreementEvent: Sendable, Hashable {
    /// See ``AgreementRegistered``.
    case registered(AgreementRegistered)
    /// See ``AgreementAmended``.
    case amended(AgreementAmended)
    /// See ``AgreementTerminated``.
    case terminated(AgreementTerminated)

    /// The payload struct.
    public var payload: any DomainEvent {
        switch self {
        case .registered(let e): e
        case .amended(let e): e
        case .terminated(let e): e
        }
    }

    /// The stored type name.
    public var typeName: String { type(of: payload).typeName }
    /// The schema version this build writes.
    public var schemaVersion: Int { type(of: payload).schemaVersion }
    /// The payload as stored JSON.
    public func encodedData() throws -> Data { try EventJSON.encoder.encode(payload) }

    /// Decodes a stored payload; unknown types are an ``EventDecodingError``.
    public static func decode(typeName: String, schemaVersion: Int, data: Data) throws(EventDecodingError) -> AgreementEvent {
        switch typeName {
        case AgreementRegistered.typeName: .registered(try EventJSON.decode(AgreementRegistered.self, schemaVersion: schemaVersion, data: data))
        case AgreementAmended.typeName: .amended(try EventJSON.decode(AgreementAmended.self, schemaVersion: schemaVersion, data: data))
        case AgreementTerminated.typeName: .terminated(try EventJSON.decode(AgreementTerminated.self, schemaVersion: schemaVersion, data: data))
        default: throw EventDecodingError(code: .unknownType, typeName: typeName, schemaVersion: schemaVersion, detail: "")
        }
    }

    /// Folds an agreement stream into its versions (termination caps every version's end).
    public static func versions(from events: some Sequence<AgreementEvent>) -> [Agreement] {
        var versions: [Agreement] = []
        for e in events {
            switch e {
            case .registered(let r): versions.append(r.agreement)
            case .amended(let a): versions.append(a.agreement)
            case .terminated(let t):
                for i in versions.indices {
                    versions[i].effectiveTo = min(versions[i].effectiveTo ?? t.effectiveTo, t.effectiveTo)
                }
            }
        }
        return versions
    }

    /// The events that bring a stream holding `current` versions up to date with `desired`
    /// (from an agreements file): a registration for a new id, an amendment for each new version.
    /// Versions already present are left alone, so applying a file twice appends nothing.
    public static func changes(current: [Agreement], desired: [Agreement]) -> [AgreementEvent] {
        var out: [AgreementEvent] = []
        var known = Set(current.map(\.version))
        for a in desired.sorted(by: { $0.version < $1.version }) where !known.contains(a.version) {
            out.append(known.isEmpty ? .registered(.init(agreement: a)) : .amended(.init(agreement: a, summary: "version \(a.version)")))
            known.insert(a.version)
        }
        return out
    }
}
