import BatonDomain
import Foundation

/// How an exported incident log maps onto Baton: which column is which, how times are
/// written, and how states, priorities, impact, urgency, channels, categories and assignment
/// groups translate into domain values.
///
/// Load one from YAML with ``ImportMapping/load(contentsOf:)`` or ``ImportMapping/parse(_:file:)``;
/// `deploy/examples/servicenow-mapping.yaml` is a complete example.
public struct ImportMapping: Sendable, Hashable {
    /// The CSV column (header name) of each field. Required: `number`, `state`, `updatedAt`.
    public struct Columns: Sendable, Hashable {
        /// The incident number, e.g. `INC0000045`; rows with the same number are one incident.
        public var number: String
        /// The incident's state after the update, e.g. `Awaiting User Info`.
        public var state: String
        /// When the update happened; orders an incident's rows.
        public var updatedAt: String
        /// A per-incident update counter that breaks ties between rows with the same `updatedAt`.
        public var modCount: String?
        /// When the incident was opened (defaults to the first row's `updatedAt`).
        public var openedAt: String?
        /// The priority, e.g. `3 - Moderate`.
        public var priority: String?
        /// ITIL impact, e.g. `2 - Medium`.
        public var impact: String?
        /// ITIL urgency, e.g. `2 - Medium`.
        public var urgency: String?
        /// The category, mapped through ``ImportMapping/categories``.
        public var category: String?
        /// The subcategory, kept as written.
        public var subcategory: String?
        /// The location or site, kept as written.
        public var site: String?
        /// The department, kept as written.
        public var department: String?
        /// The assignment group, mapped through ``ImportMapping/queues``.
        public var group: String?
        /// Who asked for help (caller, requester).
        public var requester: String?
        /// Who opened the incident; becomes the actor of `TicketOpened`.
        public var openedBy: String?
        /// Who made the update; becomes the actor of the row's events.
        public var updatedBy: String?
        /// How the incident came in (contact type), mapped through ``ImportMapping/channels``.
        public var channel: String?
        /// A one-line summary (short description).
        public var subject: String?
        /// When the incident was resolved; used for the resolve instant when it fits the row.
        public var resolvedAt: String?
        /// When the incident was closed; used for the close instant when it fits the row.
        public var closedAt: String?
        /// The resolution (close) code.
        public var resolutionCode: String?
        /// Who resolved it; kept in the resolution note.
        public var resolvedBy: String?

        /// Creates the column names; only the first three are required.
        public init(number: String, state: String, updatedAt: String) {
            self.number = number
            self.state = state
            self.updatedAt = updatedAt
        }

        /// Every mapped column as (YAML key, column name), in a stable order.
        public var all: [(key: String, column: String)] {
            let optional: [(String, String?)] = [
                ("modCount", modCount), ("openedAt", openedAt), ("priority", priority), ("impact", impact),
                ("urgency", urgency), ("category", category), ("subcategory", subcategory), ("site", site),
                ("department", department), ("group", group), ("requester", requester), ("openedBy", openedBy),
                ("updatedBy", updatedBy), ("channel", channel), ("subject", subject), ("resolvedAt", resolvedAt),
                ("closedAt", closedAt), ("resolutionCode", resolutionCode), ("resolvedBy", resolvedBy),
            ]
            return [("number", number), ("state", state), ("updatedAt", updatedAt)]
                + optional.compactMap { key, column in column.map { (key, $0) } }
        }
    }

    /// What a source state means for the ticket.
    public enum StateMeaning: Sendable, Hashable, CustomStringConvertible {
        /// Open and being worked (New, Active, In Progress…).
        case open
        /// On hold for a reason (Awaiting …).
        case hold(HoldReason)
        /// Resolved (may be reopened).
        case resolved
        /// Closed (final).
        case closed

        public var description: String {
            switch self {
            case .open: "open"
            case .hold(let reason): "hold (\(reason.rawValue))"
            case .resolved: "resolved"
            case .closed: "closed"
            }
        }
    }

    /// The source system's name, e.g. `servicenow`: the ticket's `source`, and the actor
    /// `ingest:<source>` for events no person in the file is known for.
    public var source: String
    /// Which column is which.
    public var columns: Columns
    /// The time pattern (Unicode date field symbols as in `DateFormatter`), e.g. `dd-MM-yyyy HH:mm`.
    public var timeFormat: String
    /// The zone the file's local times are in.
    public var timeZone: TimeZone
    /// The value that means "no value" (e.g. `?`); an empty field always means no value.
    public var emptyValue: String?
    /// Source state → meaning. Every state in the file must be listed.
    public var states: [String: StateMeaning]
    /// Source priority → priority. Every non-empty priority in the file must be listed; an
    /// empty priority derives one from impact × urgency.
    public var priorities: [String: Priority]
    /// Source impact → impact. Every non-empty value must be listed; empty means medium.
    public var impacts: [String: Impact]
    /// Source urgency → urgency. Every non-empty value must be listed; empty means medium.
    public var urgencies: [String: Urgency]
    /// Source contact type → channel.
    public var channels: [String: TicketChannel]
    /// The channel for values not in ``channels`` (and for empty ones).
    public var defaultChannel: TicketChannel
    /// Source category → category.
    public var categories: [String: TicketCategory]
    /// The category for values not in ``categories`` (and for empty ones).
    public var defaultCategory: TicketCategory
    /// Assignment group → queue.
    public var queues: [String: String]
    /// The queue for groups not in ``queues`` (and for incidents with no group yet).
    public var defaultQueue: String

    /// Creates a mapping. Prefer loading one from YAML, which validates it.
    public init(
        source: String, columns: Columns, timeFormat: String, timeZone: TimeZone, emptyValue: String? = nil,
        states: [String: StateMeaning], priorities: [String: Priority] = [:], impacts: [String: Impact] = [:],
        urgencies: [String: Urgency] = [:], channels: [String: TicketChannel] = [:], defaultChannel: TicketChannel = .import,
        categories: [String: TicketCategory] = [:], defaultCategory: TicketCategory = .other,
        queues: [String: String] = [:], defaultQueue: String
    ) {
        self.source = source
        self.columns = columns
        self.timeFormat = timeFormat
        self.timeZone = timeZone
        self.emptyValue = emptyValue
        self.states = states
        self.priorities = priorities
        self.impacts = impacts
        self.urgencies = urgencies
        self.channels = channels
        self.defaultChannel = defaultChannel
        self.categories = categories
        self.defaultCategory = defaultCategory
        self.queues = queues
        self.defaultQueue = defaultQueue
    }

    /// The queue for an assignment group (nil: no group), falling back to ``defaultQueue``.
    public func queue(forGroup group: String?) -> String {
        group.flatMap { queues[$0] } ?? defaultQueue
    }

    /// The category for a source category, falling back to ``defaultCategory``.
    public func category(for value: String?) -> TicketCategory {
        value.flatMap { categories[$0] } ?? defaultCategory
    }

    /// The channel for a source contact type, falling back to ``defaultChannel``.
    public func channel(for value: String?) -> TicketChannel {
        value.flatMap { channels[$0] } ?? defaultChannel
    }

    /// The field's value, or nil when it is empty or the mapping's ``emptyValue``.
    public func value(_ field: String) -> String? {
        let trimmed = field.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || trimmed == emptyValue ? nil : trimmed
    }

    /// Parses a local time written in ``timeFormat`` in ``timeZone``; nil if it does not match.
    ///
    /// For many values, use one ``TimeParser`` (this creates a formatter per call).
    public func instant(from text: String) -> Date? {
        TimeParser(format: timeFormat, timeZone: timeZone).instant(from: text)
    }
}

/// Parses local times in one pattern and zone. Not `Sendable`: make one per task.
public final class TimeParser {
    private let formatter: DateFormatter

    /// Creates a parser for `format` (e.g. `dd-MM-yyyy HH:mm`) in `timeZone`. Parsing is strict:
    /// `31-02-2016 10:00` is rejected, not rolled over.
    public init(format: String, timeZone: TimeZone) {
        formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.timeZone = timeZone
        formatter.dateFormat = format
        formatter.isLenient = false
    }

    /// The instant, or nil if `text` does not match the pattern.
    public func instant(from text: String) -> Date? {
        formatter.date(from: text.trimmingCharacters(in: .whitespaces))
    }

    /// Formats an instant in the pattern and zone (used to check a pattern round-trips).
    public func text(for instant: Date) -> String { formatter.string(from: instant) }
}
