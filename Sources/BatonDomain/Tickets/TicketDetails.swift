import Foundation

/// What kind of service a ticket is about. Encoded as kebab-case (`"help-desk"`).
public enum TicketCategory: String, CaseIterable, Codable, Sendable, Hashable {
    case helpDesk = "help-desk"
    case desktopSupport = "desktop-support"
    case wanLan = "wan-lan"
    case serverOperations = "server-operations"
    case applicationServices = "application-services"
    case training
    case other
}

/// How a ticket came in.
public enum TicketChannel: String, CaseIterable, Codable, Sendable, Hashable {
    case phone, email, portal, walkIn = "walk-in", chat, monitoring, api, `import`
}

/// The descriptive data of a ticket, as given when it is opened.
public struct TicketDetails: Codable, Sendable, Hashable {
    /// Where it came from, e.g. `"portal"` or an ingest source name.
    public var source: String
    /// The id in the source system, if any.
    public var externalReference: String?
    /// Who asked for help (login, e-mail or name).
    public var requester: String
    /// The site, e.g. `"city-hall"`.
    public var site: String?
    /// The department, e.g. `"parks"`.
    public var department: String?
    /// The service category.
    public var category: TicketCategory
    /// A finer classification, e.g. `"password-reset"`.
    public var subcategory: String?
    /// ITIL impact.
    public var impact: Impact
    /// ITIL urgency.
    public var urgency: Urgency
    /// One-line summary.
    public var subject: String
    /// Full description.
    public var description: String
    /// How it came in.
    public var channel: TicketChannel

    /// Creates ticket details.
    public init(
        source: String, externalReference: String? = nil, requester: String, site: String? = nil,
        department: String? = nil, category: TicketCategory, subcategory: String? = nil,
        impact: Impact = .medium, urgency: Urgency = .medium, subject: String, description: String = "",
        channel: TicketChannel = .portal
    ) {
        self.source = source
        self.externalReference = externalReference
        self.requester = requester
        self.site = site
        self.department = department
        self.category = category
        self.subcategory = subcategory
        self.impact = impact
        self.urgency = urgency
        self.subject = subject
        self.description = description
        self.channel = channel
    }
}
