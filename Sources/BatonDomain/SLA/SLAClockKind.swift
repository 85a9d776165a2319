import Foundation

/// What an SLA clock measures.
public enum SLAClockKind: String, Codable, Sendable, Hashable, CaseIterable, CodingKeyRepresentable {
    /// Until the ticket is accepted (first response).
    case firstResponse = "first-response"
    /// Until the ticket is resolved.
    case resolution
}

extension Priority: CodingKeyRepresentable {}
