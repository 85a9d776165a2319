import Foundation

/// One line of a stored routing trace: an agreement that was considered and why it was taken
/// or not, in words an auditor understands.
public struct RoutingTraceLine: Codable, Sendable, Hashable {
    /// `"chosen"`, `"passedOver"` (eligible, but another ranked first) or `"skipped"`.
    public var outcome: String
    /// The agreement.
    public var agreementId: String
    /// Its version, if one was in force.
    public var agreementVersion: Int?
    /// A stable code for the reason, e.g. `"atOpenCap"`.
    public var reason: String
    /// The reason in plain English.
    public var explanation: String

    /// Creates a line.
    public init(outcome: String, agreementId: String, agreementVersion: Int?, reason: String, explanation: String) {
        self.outcome = outcome
        self.agreementId = agreementId
        self.agreementVersion = agreementVersion
        self.reason = reason
        self.explanation = explanation
    }
}

/// Why a ticket is being (re-)routed.
public enum RoutingCause: String, Codable, Sendable, Hashable, CaseIterable {
    /// First routing after opening.
    case opened
    /// The vendor rejected the assignment.
    case rejected
    /// Leases expired too often.
    case leaseExpired
    /// A breach clause moved it.
    case breach
    /// Reopened, or any other manual re-route.
    case manual
    /// Replayed from another system's history by an import.
    case imported
}
