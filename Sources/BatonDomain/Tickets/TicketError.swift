import Foundation

/// Why `decide` refused a command. `description` is safe to show: it says what state the
/// ticket is in and which commands it accepts.
public struct TicketError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let raw: String
        /// The command is not allowed in the ticket's status.
        public static let invalidTransition = Code(raw: "invalidTransition")
        /// Someone else holds an active lease, or the actor is not the one the ticket is with.
        public static let notHolder = Code(raw: "notHolder")
        /// The command's data is invalid (e.g. an empty subject, a lease ending in the past).
        public static let invalidCommand = Code(raw: "invalidCommand")
        public var description: String { raw }
    }

    /// The code.
    public var code: Code
    /// The command that was refused.
    public var command: TicketCommand.Name
    /// The ticket's number, if it exists.
    public var ticket: String?
    /// The ticket's status, nil if it does not exist.
    public var status: TicketStatus?
    /// The commands the ticket accepts in that status.
    public var allowed: [TicketCommand.Name]
    /// What is wrong, in a sentence.
    public var message: String

    public var description: String {
        let allowedText = allowed.isEmpty ? "none" : allowed.map(\.rawValue).joined(separator: ", ")
        let state = status.map { "\(ticket ?? "the ticket") is \($0.rawValue)" } ?? "the ticket does not exist yet"
        if code == .invalidTransition { return "cannot \(command.rawValue): \(state); allowed: \(allowedText)" }
        return "cannot \(command.rawValue): \(message) (\(state); allowed: \(allowedText))"
    }
}
