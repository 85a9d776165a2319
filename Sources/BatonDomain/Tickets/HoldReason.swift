import Foundation

/// Why a ticket is on hold. Agreements list which reasons pause their clocks.
public enum HoldReason: String, CaseIterable, Codable, Sendable, Hashable {
    case awaitingCustomer = "awaiting-customer"
    case awaitingVendor = "awaiting-vendor"
    case awaitingChange = "awaiting-change"
    case scheduled
}

/// Who can see a comment.
public enum CommentVisibility: String, Codable, Sendable, Hashable {
    /// Staff and vendors only.
    case `internal`
    /// Also the requester.
    case requester
}
