import BatonDomain
import EventStore
import Foundation
import Postgres

/// A ticket as the `tickets` read model has it: what lists and work queues show.
public struct TicketSummary: Sendable, Hashable, Codable {
    public var ticketId: UUID
    public var number: String
    public var status: String
    public var priority: String
    public var category: String
    public var site: String?
    public var subject: String
    public var source: String
    public var queue: String?
    public var agreementId: String?
    public var vendorId: String?
    public var assignee: String?
    public var leaseHolder: String?
    public var leaseExpiresAt: Date?
    public var holdReason: String?
    public var holdUntil: Date?
    public var openedAt: Date
    public var nextDueAt: Date?
    public var nextWarningAt: Date?
    public var breached: Bool
    public var version: Int
    public var updatedAt: Date

    static let columns = """
        ticket_id, number, status, priority, category, site, subject, source, queue, agreement_id, vendor_id, assignee, \
        lease_holder, lease_expires_at, hold_reason, hold_until, opened_at, next_due_at, next_warning_at, breached, version, \
        updated_at
        """
    static let columnCount = columns.split(separator: ",").count

    init(row: PostgresRow) throws {
        ticketId = try row.decode(UUID.self, at: 0)
        number = "T-\(try row.decode(Int64.self, at: 1))"
        status = try row.decode(String.self, at: 2)
        priority = try row.decode(String.self, at: 3)
        category = try row.decode(String.self, at: 4)
        site = try row.decode(String?.self, at: 5)
        subject = try row.decode(String.self, at: 6)
        source = try row.decode(String.self, at: 7)
        queue = try row.decode(String?.self, at: 8)
        agreementId = try row.decode(String?.self, at: 9)
        vendorId = try row.decode(String?.self, at: 10)
        assignee = try row.decode(String?.self, at: 11)
        leaseHolder = try row.decode(String?.self, at: 12)
        leaseExpiresAt = try row.decode(Date?.self, at: 13)
        holdReason = try row.decode(String?.self, at: 14)
        holdUntil = try row.decode(Date?.self, at: 15)
        openedAt = try row.decode(Date.self, at: 16)
        nextDueAt = try row.decode(Date?.self, at: 17)
        nextWarningAt = try row.decode(Date?.self, at: 18)
        breached = try row.decode(Bool.self, at: 19)
        version = Int(try row.decode(Int32.self, at: 20))
        updatedAt = try row.decode(Date.self, at: 21)
    }
}

/// Queries over the `tickets` read model.
public struct TicketQueries: Sendable {
    public let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// The statuses of tickets that still need work.
    public static let openStatuses = ["unassigned", "queued", "accepted", "in-progress", "on-hold"]

    /// What to list.
    public struct Filter: Sendable, Equatable {
        /// Only these queues (nil: any).
        public var queues: [String]?
        /// Only this vendor's tickets.
        public var vendorId: String?
        /// Only tickets from this source.
        public var source: String?
        /// Only these statuses (nil: any).
        public var statuses: [String]?
        public var priorities: [String]?
        /// Only tickets with (true) or without (false) a breached clock, or past due now.
        public var breached: Bool?
        /// Only tickets whose next due instant is before this.
        public var dueBefore: Date?
        /// Only tickets held or worked by this actor.
        public var holder: String?

        public init(
            queues: [String]? = nil, vendorId: String? = nil, source: String? = nil, statuses: [String]? = nil,
            priorities: [String]? = nil, breached: Bool? = nil, dueBefore: Date? = nil, holder: String? = nil
        ) {
            self.queues = queues
            self.vendorId = vendorId
            self.source = source
            self.statuses = statuses
            self.priorities = priorities
            self.breached = breached
            self.dueBefore = dueBefore
            self.holder = holder
        }
    }

    /// A page of tickets in work order (next due instant, then priority, then age), and the
    /// cursor of the next page (nil on the last).
    public struct Page: Sendable {
        public var tickets: [TicketSummary]
        public var nextCursor: String?
    }

    /// Where a page ends: the work-order key of its last ticket.
    struct Cursor: Codable, Equatable {
        var due: Date
        var priority: String
        var opened: Date
        var number: Int64

        /// The same text for the same key: the keys in sorted order (the default encoder's order
        /// changes from one call to the next).
        var encoded: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try! encoder.encode(self)
            return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        }

        init(due: Date, priority: String, opened: Date, number: Int64) {
            self.due = due
            self.priority = priority
            self.opened = opened
            self.number = number
        }

        init?(_ text: String) {
            let base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            guard let data = Data(base64Encoded: base64), let cursor = try? JSONDecoder().decode(Cursor.self, from: data),
                  Priority(rawValue: cursor.priority) != nil  // never any other text, a NUL say, into a query
            else { return nil }
            self = cursor
        }
    }

    /// The cursor is not one this server handed out.
    public struct InvalidCursor: Error, CustomStringConvertible {
        public var description: String { "cursor is not one a previous page returned" }
    }

    /// The far future stands in for "no due instant" so such tickets sort last.
    static let noDue = Date(timeIntervalSince1970: 253_402_300_799)  // 9999-12-31T23:59:59Z

    public func list(_ filter: Filter, after cursor: String? = nil, limit: Int = 50, now: Date = Date()) async throws -> Page {
        try await client.withConnection { try await list(filter, after: cursor, limit: limit, now: now, on: $0) }
    }

    /// ``list(_:after:limit:now:)`` on the caller's connection.
    public func list(_ filter: Filter, after cursor: String? = nil, limit: Int = 50, now: Date = Date(), on connection: PostgresConnection) async throws -> Page {
        let after: Cursor?
        if let cursor {
            guard let decoded = Cursor(cursor) else { throw InvalidCursor() }
            after = decoded
        } else {
            after = nil
        }
        // Only the filters given, as plain conditions: a page then reads rm_tickets_list_order
        // (or, for one queue, rm_tickets_queue_list_order) from where the cursor left off and
        // stops at the page's end, unless the planner sees a better way for those filters. A
        // condition that tests its own parameter for NULL leaves it no way but to sort every
        // ticket.
        var query: PostgresQuery = """
            SELECT \(unescaped: TicketSummary.columns), \(unescaped: Self.listKey) AS due, number AS n
            FROM rm_tickets WHERE true
            """
        if let queues = filter.queues {
            // One queue as an equality, which rm_tickets_queue_list_order gives in order; an
            // array, even of one, the planner sorts.
            if queues.count == 1 { query.append(" AND queue = \(queues[0])") } else { query.append(" AND queue = ANY(\(queues))") }
        }
        if let vendorId = filter.vendorId { query.append(" AND vendor_id = \(vendorId)") }
        if let source = filter.source { query.append(" AND source = \(source)") }
        if let statuses = filter.statuses { query.append(" AND status = ANY(\(statuses))") }
        if let priorities = filter.priorities { query.append(" AND priority = ANY(\(priorities))") }
        if let breached = filter.breached {
            query.append("""
                 AND \(breached) = (breached OR (next_due_at IS NOT NULL AND next_due_at < \(now) AND status = ANY(\(Self.openStatuses))))
                """)
        }
        if let dueBefore = filter.dueBefore { query.append(" AND next_due_at < \(dueBefore)") }
        if let holder = filter.holder { query.append(" AND (lease_holder = \(holder) OR assignee = \(holder))") }
        if let after {
            query.append("""
                 AND (\(unescaped: Self.listKey), priority, opened_at, number) > (\(after.due), \(after.priority), \(after.opened), \(after.number))
                """)
        }
        query.append(" ORDER BY \(unescaped: Self.listKey), priority, opened_at, number LIMIT \(limit + 1)")
        let rows = try await connection.query(query)
        let tickets = try rows.prefix(limit).map(TicketSummary.init(row:))
        var next: String?
        if rows.count > limit, let last = tickets.last {
            let row = rows[limit - 1]
            next = Cursor(due: try row.decode(Date.self, at: 22), priority: last.priority, opened: last.openedAt, number: try row.decode(Int64.self, at: 23)).encoded
        }
        return Page(tickets: tickets, nextCursor: next)
    }

    /// A list's first sort key, the next due instant with none last: exactly the expression
    /// `rm_tickets_list_order` indexes (schema/0020), or the index does not serve the list.
    static let listKey = "COALESCE(next_due_at, '9999-12-31 23:59:59+00'::timestamptz)"

    /// A ticket that can be leased, with its stream's version in the log when it was found.
    public struct LeaseCandidate: Sendable {
        public var ticket: TicketSummary
        /// The version of the ticket's stream as the log had it (it may be ahead of
        /// `ticket.version`, the version the read model was written from).
        public var streamVersion: Int
    }

    /// Open tickets that can be leased now in `queues`, most urgent first, locked for the
    /// caller's transaction; rows another transaction holds are skipped, so racing workers
    /// never get the same ticket.
    public func leaseCandidates(queues: [String], limit: Int, now: Date, in session: PostgresSession) throws -> [LeaseCandidate] {
        // Per queue, the unleased tickets from the front of their own index (leased ones are
        // not in it, so a long run of leased tickets at the head of a queue costs nothing),
        // and the tickets whose lease has run out (usually none: the SLA watcher returns
        // them at the instant); then the most urgent of all.
        var candidates: [LeaseCandidate] = []
        // The limit is written into the statement, not bound: a prepared statement with a
        // bound limit is planned afresh on every run (its generic plan looks costlier).
        for queue in queues {
            candidates += try session.query("""
                WITH unleased AS (
                    SELECT \(unescaped: TicketSummary.columns) FROM rm_tickets
                    WHERE queue = \(queue) AND status = 'queued' AND lease_holder IS NULL
                    -- The key of rm_tickets_lease_order, which only that index gives (see
                    -- schema/0017): next_due_at NULLS LAST, priority, opened_at.
                    ORDER BY (next_due_at IS NULL), next_due_at, priority, opened_at
                    LIMIT \(unescaped: String(limit))
                    FOR UPDATE SKIP LOCKED
                ), expired AS (
                    SELECT \(unescaped: TicketSummary.columns) FROM rm_tickets
                    WHERE queue = \(queue) AND status = 'queued' AND lease_holder IS NOT NULL AND lease_expires_at <= \(now)
                    ORDER BY lease_expires_at
                    LIMIT \(unescaped: String(limit))
                    FOR UPDATE SKIP LOCKED
                )
                SELECT c.*, (SELECT version FROM event_streams WHERE stream = 'ticket-' || c.ticket_id)
                FROM (SELECT * FROM unleased UNION ALL SELECT * FROM expired) AS c
                """).map { row in
                    LeaseCandidate(ticket: try TicketSummary(row: row), streamVersion: Int(try row.decode(Int64?.self, at: TicketSummary.columnCount) ?? 0))
                }
        }
        return Array(candidates.sorted {
            ($0.ticket.nextDueAt ?? Self.noDue, $0.ticket.priority, $0.ticket.openedAt)
                < ($1.ticket.nextDueAt ?? Self.noDue, $1.ticket.priority, $1.ticket.openedAt)
        }.prefix(limit))
    }

    /// How busy agreements and queues are now, for routing: open tickets per agreement and
    /// queue, and tickets routed to each agreement this calendar month (UTC), as the tickets
    /// projection keeps them in `rm_queue_load` and `rm_agreement_intake`.
    public func routingLoad(now: Date) async throws -> RoutingLoad {
        var load = RoutingLoad()
        for row in try await client.query("SELECT agreement_id, queue, open_tickets FROM rm_queue_load") {
            let count = Int(try row.decode(Int32.self, at: 2))
            if let agreement = try row.decode(String?.self, at: 0) { load.openTickets[agreement, default: 0] += count }
            load.queueDepth[try row.decode(String.self, at: 1), default: 0] += count
        }
        let month = now.utcMonth
        for row in try await client.query("SELECT agreement_id, tickets FROM rm_agreement_intake WHERE month = \(month)") {
            load.newTicketsThisMonth[try row.decode(String.self, at: 0)] = Int(try row.decode(Int32.self, at: 1))
        }
        return load
    }
}

extension TicketQueries {
    /// The open tickets whose deadline (an SLA alarm not yet recorded, a lease or a hold
    /// ending) has come by `instant`, at most `limit` of them, earliest first (by deadline,
    /// then ticket id), after `cursor` when given (the last deadline and ticket of the page
    /// before); then the next deadline after `instant`. What the SLA watcher acts on, and when
    /// it wakes next: it asks after every batch the projection applies, so it reads no more
    /// than that.
    public func deadlines(
        dueBy instant: Date, after cursor: (deadline: Date, ticketId: UUID)? = nil, limit: Int
    ) async throws -> [(ticketId: UUID, deadline: Date)] {
        var due: PostgresQuery = "SELECT ticket_id, next_deadline_at FROM rm_tickets WHERE next_deadline_at <= \(instant)"
        if let cursor {
            due.append(" AND (next_deadline_at, ticket_id) > (\(cursor.deadline), \(cursor.ticketId))")
        }
        due.append(" ORDER BY next_deadline_at, ticket_id LIMIT \(unescaped: String(limit))")
        var query: PostgresQuery = "SELECT ticket_id, next_deadline_at FROM (("
        query.append(due)
        query.append("""
            ) UNION ALL
                (SELECT ticket_id, next_deadline_at FROM rm_tickets
                 WHERE next_deadline_at > \(instant) ORDER BY next_deadline_at LIMIT 1)
            ) AS due ORDER BY next_deadline_at, ticket_id
            """)
        return try await client.query(query).map { (try $0.decode(UUID.self, at: 0), try $0.decode(Date.self, at: 1)) }
    }
}

extension TicketQueries {
    /// Whose change feed: which tickets' events it carries.
    public enum FeedScope: Sendable, Equatable {
        /// Every ticket (agents, admins, auditors).
        case everything
        /// The tickets in the vendor's queues, from the moment each entered them.
        case vendor(String)
        /// The tickets a source sent.
        case source(String)
    }

    /// A page of a change feed: events after `position`, up to what the tickets projection
    /// has applied (so whose ticket an event belongs to is always known), and the position
    /// to resume after.
    public func feed(after position: Int64, scope: FeedScope, limit: Int) async throws -> (events: [(event: RecordedEvent, number: Int64)], resumeAfter: Int64) {
        let columns = RecordedEvent.columns.split(separator: ",").map { "e." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")
        var vendor: String?
        var source: String?
        switch scope {
        case .everything: break
        case .vendor(let id): vendor = id
        case .source(let name): source = name
        }
        return try await client.withConnection { connection in
            let applied = try await connection.query("SELECT position FROM event_checkpoints WHERE name = 'tickets'").first?.decode(Int64.self, at: 0) ?? 0
            let rows = try await connection.query("""
                SELECT \(unescaped: columns), t.number FROM events e
                JOIN rm_tickets t ON t.ticket_id = CAST(substr(e.stream, 8) AS uuid)
                WHERE e.position > \(position) AND e.position <= \(applied) AND e.stream LIKE 'ticket-%'
                  AND (\(vendor)::text IS NULL OR (t.vendor_id = \(vendor) AND e.position >= t.placed_position))
                  AND (\(source)::text IS NULL OR t.source = \(source))
                ORDER BY e.position LIMIT \(limit)
                """)
            let events = try rows.map { (try RecordedEvent(row: $0), try $0.decode(Int64.self, at: 15)) }
            let resumeAfter = events.count == limit ? events.last!.0.position : max(position, applied)
            return (events, resumeAfter)
        }
    }
}

extension TicketQueries {
    /// Active tickets (neither resolved, closed nor cancelled) whose last event came before
    /// log position `position`, after `ticketId` by id, at most `limit` of them, with the next
    /// deadline the read model has for each: what the SLA watcher checks again after a
    /// change of the agreements or the policy, since the read model computed those deadlines
    /// with the agreements of before.
    public func activeTickets(
        lastEventBefore position: Int64, after ticketId: UUID?, limit: Int
    ) async throws -> [(ticketId: UUID, deadline: Date?)] {
        var query: PostgresQuery = """
            SELECT ticket_id, next_deadline_at FROM rm_tickets
            WHERE last_position < \(position) AND status NOT IN ('resolved', 'closed', 'cancelled')
            """
        if let ticketId { query.append(" AND ticket_id > \(ticketId)") }
        query.append(" ORDER BY ticket_id LIMIT \(unescaped: String(limit))")
        return try await client.query(query).map { (try $0.decode(UUID.self, at: 0), try $0.decode(Date?.self, at: 1)) }
    }
}

extension TicketQueries {
    /// A ticket's lease columns in `rm_tickets`, its next deadline, and the version of the
    /// stream the row was written from.
    public struct LeaseMark: Sendable, Hashable {
        public var ticketId: UUID
        public var holder: String?
        public var until: Date?
        public var nextDeadline: Date?
        public var version: Int

        public init(ticketId: UUID, holder: String?, until: Date?, nextDeadline: Date?, version: Int) {
            self.ticketId = ticketId
            self.holder = holder
            self.until = until
            self.nextDeadline = nextDeadline
            self.version = version
        }
    }

    /// Marks tickets leased in the read model, for the lease path only (see
    /// `leaseCandidates`): the rows are locked by the caller's transaction, and the projection
    /// later writes the same facts from the log. The next deadline comes down to the lease's
    /// end, as the projection will have it. Returns each row's marks as they were, for
    /// ``restoreLeaseMarks(_:in:)``.
    public func markLeased(_ leases: [(ticketId: UUID, holder: String, until: Date)], in session: PostgresSession) throws -> [UUID: LeaseMark] {
        guard !leases.isEmpty else { return [:] }
        return try leaseMarks(from: session.query(markLeasedStatement(leases)))
    }

    /// The statement of ``markLeased(_:in:)``, for a caller that sends it with others in one
    /// round trip (``PostgresSession/pipeline(_:)``); ``leaseMarks(from:)`` reads its answer.
    public func markLeasedStatement(_ leases: [(ticketId: UUID, holder: String, until: Date)]) -> PostgresQuery {
        // `before` is the row as the statement found it: RETURNING gives the new values only.
        """
        UPDATE rm_tickets AS t SET lease_holder = m.holder, lease_expires_at = m.until,
            next_deadline_at = LEAST(t.next_deadline_at, m.until)
        FROM unnest(\(leases.map(\.ticketId))::uuid[], \(leases.map(\.holder))::text[],
                    \(leases.map { PostgresTimestamp($0.until) })::timestamptz[]) AS m(ticket_id, holder, until)
            JOIN rm_tickets AS before ON before.ticket_id = m.ticket_id
        WHERE t.ticket_id = m.ticket_id
        RETURNING t.ticket_id, before.lease_holder, before.lease_expires_at, before.next_deadline_at, before.version
        """
    }

    /// Each marked row's marks as they were, from what ``markLeasedStatement(_:)`` answered.
    public func leaseMarks(from rows: PostgresRows) throws -> [UUID: LeaseMark] {
        try rows.reduce(into: [:]) { marks, row in
            let mark = LeaseMark(
                ticketId: try row.decode(UUID.self, at: 0), holder: try row.decode(String?.self, at: 1),
                until: try row.decode(Date?.self, at: 2), nextDeadline: try row.decode(Date?.self, at: 3),
                version: Int(try row.decode(Int32.self, at: 4)))
            marks[mark.ticketId] = mark
        }
    }

    /// Puts back the marks ``markLeased(_:in:)`` replaced, for leases that were not recorded,
    /// on the rows the projection has not written since (still at the version marked): a row
    /// it rewrote holds what the log says, which is what the mark is put back for. Safe after
    /// the marks were committed: the rows need no lock.
    public func restoreLeaseMarks(_ marks: [LeaseMark], in session: PostgresSession) throws {
        guard !marks.isEmpty else { return }
        try session.execute("""
            UPDATE rm_tickets AS t SET lease_holder = m.holder, lease_expires_at = m.until, next_deadline_at = m.deadline
            FROM unnest(\(marks.map(\.ticketId))::uuid[], \(marks.map(\.holder))::text[],
                        \(marks.map { $0.until.map(PostgresTimestamp.init) })::timestamptz[],
                        \(marks.map { $0.nextDeadline.map(PostgresTimestamp.init) })::timestamptz[],
                        \(marks.map { Int32($0.version) })::integer[]) AS m(ticket_id, holder, until, deadline, version)
            WHERE t.ticket_id = m.ticket_id AND t.version = m.version
            """)
    }
}
