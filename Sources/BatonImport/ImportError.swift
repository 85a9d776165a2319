import BatonDomain
import Foundation

/// An import could not read a file or replay an incident. `description` names the incident and
/// the CSV line where known, and is safe to show.
public struct ImportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let raw: String
        /// The CSV file is unreadable or malformed.
        public static let malformedCSV = Code(raw: "malformedCSV")
        /// A column the mapping names is not in the file's header.
        public static let missingColumn = Code(raw: "missingColumn")
        /// A field holds a value the mapping cannot translate (a time, a state, a priority…).
        public static let invalidValue = Code(raw: "invalidValue")
        /// The incident's history cannot be replayed through the ticket life cycle.
        public static let notReplayable = Code(raw: "notReplayable")
        public var description: String { raw }
    }

    /// The code.
    public var code: Code
    /// The incident number, when the problem belongs to one.
    public var incident: String?
    /// The CSV line (1-based, the header is line 1), when known.
    public var line: Int?
    /// What is wrong.
    public var message: String
    /// The domain's refusal, for ``Code/notReplayable``.
    public var ticketError: TicketError?

    /// Creates an error.
    public init(code: Code, incident: String? = nil, line: Int? = nil, message: String, ticketError: TicketError? = nil) {
        self.code = code
        self.incident = incident
        self.line = line
        self.message = message
        self.ticketError = ticketError
    }

    public var description: String {
        var place: [String] = []
        if let incident { place.append("incident \(incident)") }
        if let line { place.append("line \(line)") }
        return place.isEmpty ? message : "\(place.joined(separator: ", ")): \(message)"
    }
}
