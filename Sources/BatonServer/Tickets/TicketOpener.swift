import BatonDomain
import BatonProjections
import EventStore
import Foundation

/// Opens tickets: takes a number, decides the opening, routes the ticket by the agreements
/// in force and the current load, and records both in one append, so a ticket is never seen
/// unrouted. The same source and external reference, or the same command id, never opens a
/// second ticket.
public struct TicketOpener: Sendable {
    public let tickets: TicketStore
    public let agreements: AgreementCache
    public let queries: TicketQueries
    /// Where each ticket opened is stored as it reads back from the log, so that the tickets
    /// projection need not decode it (see ``TicketHistories``).
    public let histories: TicketHistories
    let load: RoutingLoadCache

    public init(
        tickets: TicketStore, agreements: AgreementCache, queries: TicketQueries, histories: TicketHistories = TicketHistories(budget: 0)
    ) {
        self.tickets = tickets
        self.agreements = agreements
        self.queries = queries
        self.histories = histories
        self.load = RoutingLoadCache(queries: queries)
    }

    /// What opening did.
    public struct Opened: Sendable {
        public var ticket: Ticket
        /// The routing that placed it (from its `TicketRouted` event).
        public var routing: TicketRouted?
        public var clocks: [SLAClock]
        /// True when the ticket had been opened before; nothing was recorded now.
        public var isDuplicate: Bool
    }

    /// No agreements file has been applied, so there is no customer SLA and no default queue.
    public struct NoAgreements: Error, CustomStringConvertible {
        public var description: String {
            "no agreements have been applied; run `batond agreements apply FILE` (or start batond with --agreements FILE)"
        }
    }

    public func open(
        _ details: TicketDetails, priority: Priority?, by actor: Actor, at now: Date, commandId: UUID? = nil
    ) async throws -> Opened {
        if let commandId, let earlier = try await tickets.store.events(ofCommand: commandId).first {
            return try await existing(streamName: earlier.stream, at: now)
        }
        if let reference = details.externalReference, let found = try await tickets.existing(source: details.source, externalReference: reference) {
            return try await existing(streamName: TicketStore.streamName(found.ticketId), at: now)
        }
        guard let set = try await agreements.current() else { throw NoAgreements() }
        let ticketId = TicketStore.newTicketId(source: details.source, externalReference: details.externalReference)
        let number = try await tickets.allocateNumber()
        let decider = set.ticketDecider
        var events = try decider.decide(
            .open(OpenTicket(ticketId: ticketId, number: number, details: details, priority: priority)), state: nil, by: actor, at: now)
        guard let opened = TicketDecider.fold(events) else { preconditionFailure("an opening must make a ticket") }
        let decision = set.route(opened, load: try await load.current(now: now), at: now)
        events += try decider.decide(.route(decision, cause: .opened), state: opened, by: .system, at: now)
        switch try await tickets.recordNewTicket(events: events, commandId: commandId) {
        case .recorded(let result, let bytes):
            histories.store(TicketHistories.Entry().appending(written: events, at: result.positions, bytes: bytes), for: result.stream)
            let ticket = TicketDecider.fold(events) ?? opened
            return Opened(
                ticket: ticket, routing: Self.routing(in: events), clocks: SLAClocks.compute(events: events, agreements: set, asOf: now),
                isDuplicate: false)
        case .duplicate(_, let existingId):
            return try await existing(streamName: TicketStore.streamName(existingId), at: now)
        case .repeatedCommand:
            guard let commandId, let earlier = try await tickets.store.events(ofCommand: commandId).first else {
                preconditionFailure("a repeated command has events")
            }
            return try await existing(streamName: earlier.stream, at: now)
        }
    }

    private func existing(streamName: String, at now: Date) async throws -> Opened {
        let events = try await tickets.store.readStream(streamName).map(TicketStore.decode)
        guard let ticket = TicketDecider.fold(events) else { preconditionFailure("an indexed ticket has events") }
        let clocks = try await agreements.current().map { SLAClocks.compute(events: events, agreements: $0, asOf: now) } ?? []
        return Opened(ticket: ticket, routing: Self.routing(in: events), clocks: clocks, isDuplicate: true)
    }

    static func routing(in events: [Stamped<TicketEvent>]) -> TicketRouted? {
        for event in events.reversed() {
            if case .routed(let routed) = event.event { return routed }
        }
        return nil
    }
}

/// The agreement set in force, read from the log and kept for a few seconds: agreements
/// change rarely, tickets arrive often. Applying agreements through this process refreshes
/// it at once; another replica's change is seen within `lifetime`.
public struct AgreementCache: Sendable {
    let catalog: AgreementCatalog
    private let set: Refreshing<AgreementSet?>

    public init(catalog: AgreementCatalog, lifetime: Duration = .seconds(5)) {
        self.catalog = catalog
        self.set = Refreshing(lifetime: lifetime) { _ in try await catalog.current() }
    }

    /// The set at most `lifetime` old; while a stale one is read again, callers get the
    /// stale one at once. After ``invalidate()`` everyone waits for a fresh read.
    public func current() async throws -> AgreementSet? {
        try await set.current(at: Date())
    }

    /// Forgets the cached set (after applying agreements): the next caller reads afresh.
    public func invalidate() {
        set.invalidate()
    }

    /// The queues a principal works: a vendor its agreements' queues; agents and admins the
    /// in-house agreements' queues and the default queue.
    public func queues(for principal: Principal) async throws -> [String] {
        guard let set = try await current() else { return [] }
        var queues: [String] = []
        switch principal.role {
        case .vendor:
            for a in set.agreements where a.vendorId != nil && a.vendorId == principal.subject { queues += a.queues }
        case .agent, .admin:
            queues.append(set.defaultQueue)
            for a in set.agreements where a.kind != .vendor { queues += a.queues }
        case .auditor, .ingest:
            break
        }
        var seen = Set<String>()
        return queues.filter { seen.insert($0).inserted }
    }

    /// The lease length for a ticket in `queue`: the agreement's, else 15 minutes.
    public func leaseLength(queue: String?) async throws -> TimeInterval {
        guard let queue, let set = try await current(),
            let agreement = set.agreements.last(where: { $0.queues.contains(queue) })
        else { return Self.defaultLeaseLength }
        return TimeInterval(agreement.leasing.leaseLength.seconds)
    }

    /// The lease length of a queue no agreement names: 15 minutes.
    static let defaultLeaseLength: TimeInterval = 900
}

/// The queue load routing reads, counted from the read model at most every two seconds:
/// counting every open ticket for every new one would cost more than the opening itself.
/// Caps are therefore enforced as of a moment ago (the read model itself trails the log by
/// milliseconds), which a cap of tens or hundreds of tickets does not notice.
struct RoutingLoadCache: Sendable {
    private let load: Refreshing<RoutingLoad>

    init(queries: TicketQueries, lifetime: Duration = .seconds(2)) {
        self.load = Refreshing(lifetime: lifetime) { now in try await queries.routingLoad(now: now) }
    }

    /// Figures at most `lifetime` old. While stale figures are being counted again, callers
    /// get the stale ones at once; only the very first count is waited for.
    func current(now: Date) async throws -> RoutingLoad {
        try await load.current(at: now)
    }
}
