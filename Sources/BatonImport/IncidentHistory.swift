import Foundation

/// One row of an incident log: one update of an incident, with the mapped columns' values
/// (nil where the field is empty or the mapping's empty value) and times already parsed.
public struct IncidentRow: Sendable, Hashable {
    /// The CSV line the row starts on.
    public var line: Int
    /// The source state, e.g. `Awaiting User Info`.
    public var state: String
    /// When the update happened.
    public var updatedAt: Date
    /// The update counter, if mapped.
    public var modCount: Int?
    /// When the incident was opened, if mapped.
    public var openedAt: Date?
    /// The source priority, e.g. `3 - Moderate`.
    public var priority: String?
    /// The source impact.
    public var impact: String?
    /// The source urgency.
    public var urgency: String?
    /// The source category.
    public var category: String?
    /// The subcategory.
    public var subcategory: String?
    /// The site (location).
    public var site: String?
    /// The department.
    public var department: String?
    /// The assignment group.
    public var group: String?
    /// The requester (caller).
    public var requester: String?
    /// Who opened the incident.
    public var openedBy: String?
    /// Who made this update.
    public var updatedBy: String?
    /// The contact type.
    public var channel: String?
    /// The short description.
    public var subject: String?
    /// When the incident was resolved.
    public var resolvedAt: Date?
    /// When the incident was closed.
    public var closedAt: Date?
    /// The resolution code.
    public var resolutionCode: String?
    /// Who resolved it.
    public var resolvedBy: String?

    /// Creates a row; the optional fields start empty.
    public init(line: Int, state: String, updatedAt: Date) {
        self.line = line
        self.state = state
        self.updatedAt = updatedAt
    }
}

/// Every row of one incident, oldest first (by update time, then update counter, then line).
public struct IncidentHistory: Sendable, Hashable {
    /// The incident number, e.g. `INC0000045`.
    public var number: String
    /// The rows, oldest first; never empty.
    public var rows: [IncidentRow]

    /// Creates a history, ordering `rows` oldest first.
    public init(number: String, rows: [IncidentRow]) {
        self.number = number
        self.rows = rows.sorted { a, b in
            if a.updatedAt != b.updatedAt { return a.updatedAt < b.updatedAt }
            if a.modCount != b.modCount { return (a.modCount ?? Int.min) < (b.modCount ?? Int.min) }
            return a.line < b.line
        }
    }
}
