import Foundation

/// One version of an outsourcing agreement: an in-house OLA or a vendor's underpinning
/// contract (UC). Several versions of one agreement id may exist; each has its own effective
/// dates, and routing uses the highest version in force at the instant it routes.
public struct Agreement: Codable, Sendable, Hashable, Identifiable {
    /// In-house (OLA) or vendor (UC).
    public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
        /// An operational-level agreement between in-house teams.
        case inHouse = "in-house"
        /// An underpinning contract with an external vendor.
        case vendor
    }

    /// Stable id, e.g. `northwind-helpdesk`.
    public var id: String
    /// Name for people.
    public var name: String
    /// In-house or vendor.
    public var kind: Kind
    /// The vendor, for vendor agreements (e.g. `northwind`).
    public var vendorId: String?
    /// The terms' version, 1, 2, …
    public var version: Int
    /// When these terms start to apply.
    public var effectiveFrom: Date
    /// When they stop applying (exclusive); nil: open-ended.
    public var effectiveTo: Date?
    /// The queues tickets go to; routing picks the least loaded, then the first listed.
    public var queues: [String]
    /// What the agreement covers.
    public var coverage: Coverage
    /// Coverage hours, targets and pause reasons.
    public var serviceLevel: ServiceLevelTerms
    /// Whether the agreement takes tickets while its calendar is closed.
    public var takesTicketsOutsideHours: Bool
    /// Lower ranks first.
    public var precedence: Int
    /// Volume caps.
    public var caps: VolumeCaps
    /// Lease length and re-routing limits.
    public var leasing: LeaseTerms
    /// What happens on a breach.
    public var breachClauses: [BreachClause]
    /// The monthly fee, for vendor agreements.
    public var monthlyFee: Money?
    /// Service-credit clauses.
    public var creditClauses: [CreditClause]

    /// Creates an agreement version.
    public init(
        id: String, name: String, kind: Kind, vendorId: String? = nil, version: Int = 1, effectiveFrom: Date,
        effectiveTo: Date? = nil, queues: [String], coverage: Coverage = Coverage(), serviceLevel: ServiceLevelTerms,
        takesTicketsOutsideHours: Bool = false, precedence: Int = 100, caps: VolumeCaps = VolumeCaps(),
        leasing: LeaseTerms = LeaseTerms(), breachClauses: [BreachClause] = [], monthlyFee: Money? = nil,
        creditClauses: [CreditClause] = []
    ) {
        self.id = id; self.name = name; self.kind = kind; self.vendorId = vendorId; self.version = version
        self.effectiveFrom = effectiveFrom; self.effectiveTo = effectiveTo; self.queues = queues
        self.coverage = coverage; self.serviceLevel = serviceLevel
        self.takesTicketsOutsideHours = takesTicketsOutsideHours; self.precedence = precedence; self.caps = caps
        self.leasing = leasing; self.breachClauses = breachClauses; self.monthlyFee = monthlyFee
        self.creditClauses = creditClauses
    }

    /// Whether these terms apply at `instant` (`effectiveFrom <= instant < effectiveTo`).
    public func isInForce(at instant: Date) -> Bool {
        effectiveFrom <= instant && (effectiveTo.map { instant < $0 } ?? true)
    }

    /// The queue assignment for a queue of this agreement.
    public func assignment(queue: String) -> QueueAssignment {
        QueueAssignment(queue: queue, agreementId: id, agreementVersion: version, vendorId: vendorId)
    }

    /// The breach clause for a clock kind, if any.
    public func breachClause(for kind: SLAClockKind) -> BreachClause? {
        breachClauses.first { $0.clock == kind }
    }

    /// The service credit owed for a month, given the compliance per clock kind (0–100 %).
    ///
    /// For each clock kind the clause with the largest credit whose threshold is not met
    /// applies; credits of different kinds add up, never beyond the whole fee.
    public func serviceCredit(compliancePercent: [SLAClockKind: Double]) -> Decimal {
        guard let fee = monthlyFee else { return 0 }
        var percent = 0.0
        for kind in SLAClockKind.allCases {
            guard let c = compliancePercent[kind] else { continue }
            let applicable = creditClauses.filter { $0.clock == kind && c < $0.belowPercent }
            percent += applicable.map(\.creditPercent).max() ?? 0
        }
        percent = min(percent, 100)
        return fee.amount * Decimal(percent) / 100
    }
}

/// What an agreement covers. An empty set means "any".
public struct Coverage: Codable, Sendable, Hashable {
    /// Categories covered.
    public var categories: Set<TicketCategory>
    /// Subcategories covered.
    public var subcategories: Set<String>
    /// Sites covered.
    public var sites: Set<String>
    /// Departments covered.
    public var departments: Set<String>
    /// Priorities covered.
    public var priorities: Set<Priority>

    /// Creates a coverage; empty sets mean "any".
    public init(
        categories: Set<TicketCategory> = [], subcategories: Set<String> = [], sites: Set<String> = [],
        departments: Set<String> = [], priorities: Set<Priority> = []
    ) {
        self.categories = categories; self.subcategories = subcategories; self.sites = sites
        self.departments = departments; self.priorities = priorities
    }

    enum CodingKeys: String, CodingKey { case categories, subcategories, sites, departments, priorities }

    /// Sets are written sorted, so the same coverage always encodes to the same bytes.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(categories.map(\.rawValue).sorted(), forKey: .categories)
        try c.encode(subcategories.sorted(), forKey: .subcategories)
        try c.encode(sites.sorted(), forKey: .sites)
        try c.encode(departments.sorted(), forKey: .departments)
        try c.encode(priorities.sorted(), forKey: .priorities)
    }
}

/// Volume caps; nil means no cap.
public struct VolumeCaps: Codable, Sendable, Hashable {
    /// At most this many open tickets at once.
    public var maxOpenTickets: Int?
    /// At most this many new tickets per calendar month.
    public var maxNewTicketsPerMonth: Int?
    /// Creates caps.
    public init(maxOpenTickets: Int? = nil, maxNewTicketsPerMonth: Int? = nil) {
        self.maxOpenTickets = maxOpenTickets
        self.maxNewTicketsPerMonth = maxNewTicketsPerMonth
    }
}

/// How long a lease lasts and when a ticket is taken away from the agreement.
public struct LeaseTerms: Codable, Sendable, Hashable {
    /// How long a holder may keep a lease (calendar time).
    public var leaseLength: SLADuration
    /// After this many rejections of one ticket, routing no longer offers it to this agreement.
    public var maxRejections: Int
    /// After this many expired leases on one ticket, the ticket is re-routed elsewhere.
    public var maxLeaseExpiries: Int
    /// Creates lease terms.
    public init(leaseLength: SLADuration = .calendar(minutes: 30), maxRejections: Int = 1, maxLeaseExpiries: Int = 2) {
        self.leaseLength = leaseLength
        self.maxRejections = maxRejections
        self.maxLeaseExpiries = maxLeaseExpiries
    }
}

/// What a breach of one clock kind triggers.
public struct BreachClause: Codable, Sendable, Hashable {
    /// The clock kind whose breach triggers the clause.
    public var clock: SLAClockKind
    /// Move the ticket to this (in-house) queue.
    public var moveToQueue: String?
    /// Escalate the ticket.
    public var escalate: Bool
    /// Creates a clause.
    public init(clock: SLAClockKind, moveToQueue: String? = nil, escalate: Bool = false) {
        self.clock = clock
        self.moveToQueue = moveToQueue
        self.escalate = escalate
    }
}

/// An amount of money in a currency.
public struct Money: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The amount.
    public var amount: Decimal
    /// ISO 4217 code, e.g. `USD`.
    public var currency: String
    /// Creates an amount.
    public init(amount: Decimal, currency: String) { self.amount = amount; self.currency = currency }
    public var description: String { "\(amount) \(currency)" }
}

/// "Compliance below `belowPercent` in a month credits `creditPercent` of the fee."
public struct CreditClause: Codable, Sendable, Hashable {
    /// The clock kind whose monthly compliance is measured.
    public var clock: SLAClockKind
    /// The compliance threshold, in percent (e.g. 95).
    public var belowPercent: Double
    /// The credit, in percent of the monthly fee (e.g. 5).
    public var creditPercent: Double
    /// Creates a clause.
    public init(clock: SLAClockKind, belowPercent: Double, creditPercent: Double) {
        self.clock = clock
        self.belowPercent = belowPercent
        self.creditPercent = creditPercent
    }
}
