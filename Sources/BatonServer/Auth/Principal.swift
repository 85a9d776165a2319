import BatonDomain
import Foundation

/// Who is calling: the holder of a token.
public struct Principal: Sendable, Hashable {
    /// What a principal may do.
    public enum Role: String, Sendable, Hashable, CaseIterable {
        /// Manages tokens and agreements; may do what an agent does.
        case admin
        /// Works the in-house queues.
        case agent
        /// Works only tickets in its own vendor's queues.
        case vendor
        /// Reads everything, writes nothing.
        case auditor
        /// Opens tickets from one source system.
        case ingest
    }

    public var tokenId: UUID
    public var name: String
    public var role: Role
    /// The login (agent, admin), vendor id (vendor) or source (ingest); nil for auditors.
    public var subject: String?

    public init(tokenId: UUID, name: String, role: Role, subject: String?) {
        self.tokenId = tokenId
        self.name = name
        self.role = role
        self.subject = subject
    }

    /// How the principal appears on the events it causes.
    public var actor: Actor? {
        switch role {
        case .admin: subject.map(Actor.admin)
        case .agent: subject.map(Actor.agent)
        case .vendor: subject.map(Actor.vendor)
        case .ingest: subject.map(Actor.ingest)
        case .auditor: nil
        }
    }
}
