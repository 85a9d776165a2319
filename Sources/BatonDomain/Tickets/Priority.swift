import Foundation

/// Ticket priority, P1 (critical) to P5 (planning). Encoded as `"P1"`…`"P5"`.
public enum Priority: String, CaseIterable, Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    case p1 = "P1", p2 = "P2", p3 = "P3", p4 = "P4", p5 = "P5"

    /// 1 for P1 … 5 for P5.
    public var level: Int { Priority.allCases.firstIndex(of: self)! + 1 }

    /// P1 is the highest priority, so it sorts first.
    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.level < rhs.level }

    public var description: String { rawValue }
}

/// How much of the business is affected (ITIL impact).
public enum Impact: String, CaseIterable, Codable, Sendable, Hashable {
    case high, medium, low
}

/// How soon the business needs it (ITIL urgency).
public enum Urgency: String, CaseIterable, Codable, Sendable, Hashable {
    case high, medium, low
}

/// Maps impact × urgency to a priority. The default is the usual ITIL matrix:
///
/// |            | urgency high | medium | low |
/// |------------|--------------|--------|-----|
/// | impact high   | P1 | P2 | P3 |
/// | impact medium | P2 | P3 | P4 |
/// | impact low    | P3 | P4 | P5 |
public struct PriorityMatrix: Codable, Sendable, Hashable {
    /// `cells[impact][urgency]`; every combination must be present.
    public private(set) var cells: [Impact: [Urgency: Priority]]

    /// A custom matrix; returns nil unless every impact × urgency pair has a priority.
    public init?(_ cells: [Impact: [Urgency: Priority]]) {
        for i in Impact.allCases { for u in Urgency.allCases where cells[i]?[u] == nil { return nil } }
        self.cells = cells
    }

    /// The usual ITIL 3×3 matrix.
    public static let itil = PriorityMatrix([
        .high: [.high: .p1, .medium: .p2, .low: .p3],
        .medium: [.high: .p2, .medium: .p3, .low: .p4],
        .low: [.high: .p3, .medium: .p4, .low: .p5],
    ])!

    /// The priority for an impact and urgency.
    public func priority(impact: Impact, urgency: Urgency) -> Priority { cells[impact]![urgency]! }

    public init(from decoder: any Decoder) throws {
        let raw = try [String: [String: Priority]](from: decoder)
        var cells: [Impact: [Urgency: Priority]] = [:]
        for (i, row) in raw {
            guard let impact = Impact(rawValue: i) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(i) is not an impact"))
            }
            for (u, p) in row {
                guard let urgency = Urgency(rawValue: u) else {
                    throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(u) is not an urgency"))
                }
                cells[impact, default: [:]][urgency] = p
            }
        }
        guard let m = PriorityMatrix(cells) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "matrix is incomplete"))
        }
        self = m
    }

    public func encode(to encoder: any Encoder) throws {
        var raw: [String: [String: Priority]] = [:]
        for (i, row) in cells { for (u, p) in row { raw[i.rawValue, default: [:]][u.rawValue] = p } }
        try raw.encode(to: encoder)
    }
}
