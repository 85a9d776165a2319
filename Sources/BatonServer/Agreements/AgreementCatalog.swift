import BatonDomain
import BatonProjections
import EventStore
import Foundation
import Postgres

/// The agreements in force, kept as events: one stream per agreement (`agreement-<id>`)
/// holding its registration, each amendment (a new version) and any termination, so any
/// past routing decision can be explained by the terms in force at that moment.
public struct AgreementCatalog: Sendable {
    public let store: EventStore

    public init(store: EventStore) {
        self.store = store
    }

    /// What applying a file did to one agreement.
    public struct Change: Sendable, Equatable, CustomStringConvertible {
        public enum Action: String, Sendable, Equatable {
            case registered, amended, unchanged
        }

        public var agreementId: String
        public var action: Action
        /// The versions this apply added (empty when unchanged).
        public var versions: [Int]
        /// The agreement's newest version after the apply.
        public var latestVersion: Int

        public init(agreementId: String, action: Action, versions: [Int], latestVersion: Int) {
            self.agreementId = agreementId
            self.action = action
            self.versions = versions
            self.latestVersion = latestVersion
        }

        public var description: String {
            switch action {
            case .unchanged: "unchanged   \(agreementId) (version \(latestVersion))"
            case .registered, .amended:
                "\(action.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(agreementId) (version\(versions.count == 1 ? "" : "s") \(versions.map(String.init).joined(separator: ", ")))"
            }
        }
    }

    public static func streamName(agreementId: String) -> String { "agreement-\(agreementId)" }

    /// Brings the stored agreements up to date with `set`: registers new agreements and
    /// appends each version not stored yet. Applying the same file twice appends nothing.
    public func apply(_ set: AgreementSet, actor: String, at instant: Date) async throws -> [Change] {
        let byId = Dictionary(grouping: set.agreements, by: \.id)
        var changes: [Change] = []
        if let change = try await applyPolicy(ServicePolicySet(set), actor: actor, at: instant) {
            changes.append(change)
        }
        for id in byId.keys.sorted() {
            changes.append(try await apply(id: id, desired: byId[id] ?? [], actor: actor, at: instant))
        }
        return changes
    }

    private func apply(id: String, desired: [Agreement], actor: String, at instant: Date) async throws -> Change {
        let stream = Self.streamName(agreementId: id)
        // Another admin may apply at the same moment: re-read and retry on a version conflict.
        var attempt = 0
        while true {
            attempt += 1
            let (stored, version) = try await read(stream: stream)
            let current = AgreementEvent.versions(from: stored)
            let events = AgreementEvent.changes(current: current, desired: desired)
            let latest = (current + desired).map(\.version).max() ?? 0
            guard !events.isEmpty else {
                return Change(agreementId: id, action: .unchanged, versions: [], latestVersion: latest)
            }
            let newEvents = try events.map { event in
                NewEvent(type: event.typeName, schemaVersion: event.schemaVersion, data: Array(try event.encodedData()), occurredAt: instant, actor: actor)
            }
            do {
                _ = try await store.append(to: stream, expectedVersion: version.map { .exact($0) } ?? .noStream, events: newEvents)
            } catch is WrongExpectedVersion where attempt < 3 {
                continue
            }
            let added = events.compactMap { event -> Int? in
                switch event {
                case .registered(let registered): registered.agreement.version
                case .amended(let amended): amended.agreement.version
                case .terminated: nil
                }
            }
            return Change(agreementId: id, action: stored.isEmpty ? .registered : .amended, versions: added, latestVersion: latest)
        }
    }

    /// The stream holding the service desk's policy (customer SLA, default queue, priority matrix).
    public static let policyStream = AgreementLog.policyStream

    /// Records the policy when it differs from the one recorded last.
    private func applyPolicy(_ policy: ServicePolicySet, actor: String, at instant: Date) async throws -> Change? {
        var attempt = 0
        while true {
            attempt += 1
            let (current, version) = try await readPolicy()
            if current == policy { return nil }
            let event = NewEvent(
                type: ServicePolicySet.typeName, schemaVersion: ServicePolicySet.schemaVersion,
                data: Array(try EventJSON.encoder.encode(policy)), occurredAt: instant, actor: actor)
            do {
                _ = try await store.append(to: Self.policyStream, expectedVersion: version.map { .exact($0) } ?? .noStream, events: [event])
            } catch is WrongExpectedVersion where attempt < 3 {
                continue
            }
            let next = Int((version ?? 0) + 1)
            return Change(agreementId: "(service policy)", action: version == nil ? .registered : .amended, versions: [next], latestVersion: next)
        }
    }

    /// The policy recorded last, and the policy stream's version.
    public func readPolicy() async throws -> (policy: ServicePolicySet?, version: Int64?) {
        let recorded = try await store.readStream(Self.policyStream)
        guard let last = recorded.last else { return (nil, nil) }
        return (try ServicePolicySet.decode(schemaVersion: last.schemaVersion, data: Data(last.data)), last.streamVersion)
    }

    /// The recorded policy with every recorded agreement version: what routing and SLA clocks
    /// use. Nil until an agreements file has been applied.
    public func current() async throws -> AgreementSet? {
        try await store.client.withConnection { try await AgreementLog.agreementSet(on: $0) }
    }

    /// Every stored version of every agreement, ordered by id then version.
    public func agreements() async throws -> [Agreement] {
        try await store.client.withConnection { try await AgreementLog.agreements(on: $0) }
    }

    private func read(stream: String) async throws -> (events: [AgreementEvent], version: Int64?) {
        let recorded = try await store.readStream(stream)
        let events = try recorded.map { event in
            try AgreementEvent.decode(typeName: event.type, schemaVersion: event.schemaVersion, data: Data(event.data))
        }
        return (events, recorded.last?.streamVersion)
    }
}
