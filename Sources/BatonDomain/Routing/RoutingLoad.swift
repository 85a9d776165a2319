import Foundation

/// How busy each agreement and queue is at the instant of routing, as counted by the caller
/// from projections.
public struct RoutingLoad: Sendable, Hashable {
    /// Open tickets per agreement id (used for the open cap and for ranking).
    public var openTickets: [String: Int]
    /// New tickets this calendar month per agreement id (used for the monthly cap).
    public var newTicketsThisMonth: [String: Int]
    /// Open tickets per queue (picks among an agreement's queues).
    public var queueDepth: [String: Int]

    /// Creates a load; missing entries count as zero.
    public init(openTickets: [String: Int] = [:], newTicketsThisMonth: [String: Int] = [:], queueDepth: [String: Int] = [:]) {
        self.openTickets = openTickets
        self.newTicketsThisMonth = newTicketsThisMonth
        self.queueDepth = queueDepth
    }

    /// No load anywhere.
    public static let none = RoutingLoad()
}
