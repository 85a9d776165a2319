import Foundation

/// The outcome of ``route(_:agreements:load:at:defaultQueue:)``: where the ticket goes, and
/// why, with every agreement considered.
public struct RoutingDecision: Sendable, Hashable {
    /// The queue and agreement chosen (agreement nil: the default in-house queue).
    public var assignment: QueueAssignment
    /// Every agreement considered, in the order they were ranked or skipped.
    public var considerations: [RoutingConsideration]
    /// Why the ticket went there, when the placement was not decided by ``route(_:agreements:load:at:defaultQueue:)``
    /// (for example, an import replaying another system's history).
    public var placementReason: String?

    /// Creates a decision.
    public init(assignment: QueueAssignment, considerations: [RoutingConsideration], placementReason: String? = nil) {
        self.assignment = assignment
        self.considerations = considerations
        self.placementReason = placementReason
    }

    /// One sentence for people: where, and why.
    public var summary: String {
        summary(chosen: considerations.first { $0.outcome == .chosen }?.explanation)
    }

    private func summary(chosen explanation: String?) -> String {
        if let placementReason {
            return "Placed in \(assignment.queue): \(placementReason)"
        }
        if let explanation {
            return "Routed to \(assignment.queue): \(explanation)"
        }
        return "Routed to the default in-house queue \(assignment.queue): no agreement in force covers this ticket and can take it now."
    }

    /// The event that records the decision, with its ``summary`` and ``traceLines``: each
    /// explanation written once (the summary repeats the chosen agreement's).
    public func routed(cause: RoutingCause) -> TicketRouted {
        let trace = traceLines
        let chosen = zip(considerations, trace).first { $0.0.outcome == .chosen }?.1.explanation
        return TicketRouted(assignment: assignment, cause: cause, summary: summary(chosen: chosen), trace: trace)
    }

    /// The trace as stored in a `TicketRouted` event.
    public var traceLines: [RoutingTraceLine] {
        considerations.map {
            RoutingTraceLine(outcome: $0.outcome.rawValue, agreementId: $0.agreementId, agreementVersion: $0.agreementVersion,
                             reason: $0.reason.code, explanation: $0.explanation)
        }
    }
}
