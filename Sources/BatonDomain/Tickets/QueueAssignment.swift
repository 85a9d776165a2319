import Foundation

/// Where a ticket is placed: a queue, and the agreement (and its version) under which it is
/// placed there. `agreementId` is nil for the default in-house queue.
public struct QueueAssignment: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The queue, e.g. `"service-desk"`.
    public var queue: String
    /// The agreement whose terms apply, if any.
    public var agreementId: String?
    /// The version of those terms.
    public var agreementVersion: Int?
    /// The vendor that works the queue, for vendor (UC) agreements.
    public var vendorId: String?

    /// Creates an assignment.
    public init(queue: String, agreementId: String? = nil, agreementVersion: Int? = nil, vendorId: String? = nil) {
        self.queue = queue
        self.agreementId = agreementId
        self.agreementVersion = agreementVersion
        self.vendorId = vendorId
    }

    public var description: String {
        guard let id = agreementId else { return "queue \(queue)" }
        return "queue \(queue) under agreement \(id) v\(agreementVersion ?? 1)"
    }
}
