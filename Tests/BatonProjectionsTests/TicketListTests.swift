import BatonProjections
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("The ticket list")
struct TicketListTests {
    /// A row of `rm_tickets` as the list sees it.
    struct Row {
        var id = UUID()
        var number: Int64
        var status: String
        var priority: String
        var queue: String?
        var vendorId: String?
        var source: String
        var nextDueAt: Date?
        var openedAt: Date
        var breached: Bool
        var leaseHolder: String?
        var assignee: String?
    }

    static let base = Date(timeIntervalSince1970: 1_780_000_000)
    static let statuses = ["unassigned", "queued", "accepted", "in-progress", "on-hold", "resolved", "closed", "cancelled"]

    /// `count` tickets with many ties in the sort key (due and opening instants a whole minute
    /// apart in a small range, five priorities), every tenth with no due instant and the
    /// closed ones (`closedShare` of them) with none either, as the projection writes them.
    static func rows(_ count: Int, closedShare: Double, seed: UInt64) -> [Row] {
        var random = SplitMix64(state: seed)
        let queues: [(String?, String?)] = [("civicsoft-apps", "civicsoft"), ("northwind-l1", "northwind"), ("service-desk", nil), (nil, nil)]
        return (1...count).map { n in
            let closed = Double.random(in: 0..<1, using: &random) < closedShare
            let (queue, vendor) = queues.randomElement(using: &random)!
            let status = closed ? "closed" : statuses.dropLast(3).randomElement(using: &random)!
            let due = closed || n % 10 == 0 ? nil : base.addingTimeInterval(60 * Double(Int.random(in: 0..<400, using: &random)))
            return Row(
                number: Int64(n), status: status, priority: "P\(Int.random(in: 1...5, using: &random))", queue: queue, vendorId: vendor,
                source: Bool.random(using: &random) ? "portal" : "email", nextDueAt: due,
                openedAt: base.addingTimeInterval(-60 * Double(Int.random(in: 0..<300, using: &random))),
                breached: Int.random(in: 0..<10, using: &random) == 0,
                leaseHolder: Int.random(in: 0..<8, using: &random) == 0 ? "vendor:civicsoft" : nil,
                assignee: Int.random(in: 0..<8, using: &random) == 0 ? "agent:ada" : nil)
        }
    }

    static func insert(_ rows: [Row], into client: PostgresClient, analyze: Bool = true) async throws {
        for chunk in stride(from: 0, to: rows.count, by: 5_000).map({ rows[$0..<min($0 + 5_000, rows.count)] }) {
            try await client.execute("""
                INSERT INTO rm_tickets (ticket_id, number, status, priority, category, subject, requester, source, queue, vendor_id,
                                        opened_at, next_due_at, breached, lease_holder, assignee, version, updated_at, last_position)
                SELECT id, number, status, priority, 'help-desk', 's', 'r', source, queue, vendor_id, opened_at, next_due_at, breached,
                       lease_holder, assignee, 2, opened_at, number
                FROM unnest(\(chunk.map(\.id)), \(chunk.map(\.number)), \(chunk.map(\.status)), \(chunk.map(\.priority)),
                            \(chunk.map(\.source)), \(chunk.map(\.queue)), \(chunk.map(\.vendorId)), \(chunk.map(\.openedAt)),
                            \(chunk.map(\.nextDueAt)), \(chunk.map(\.breached)), \(chunk.map(\.leaseHolder)), \(chunk.map(\.assignee)))
                     AS r(id, number, status, priority, source, queue, vendor_id, opened_at, next_due_at, breached, lease_holder, assignee)
                """)
        }
        if analyze { try await client.execute("ANALYZE rm_tickets") }
    }

    /// The rows of rm_tickets this connection's transaction has read so far (not flushed to
    /// the statistics while a transaction is open).
    static func rowsRead(on connection: PostgresConnection) async throws -> Int64 {
        try await connection.query("""
            SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables WHERE relname = 'rm_tickets'
            """)[0].decode(Int64.self, at: 0)
    }

    /// What the list must give for `filter`: the filter as the API documents it, in work order.
    static func expected(_ rows: [Row], _ filter: TicketQueries.Filter, now: Date) -> [UUID] {
        let noDue = Date.distantFuture
        return rows.filter { row in
            (filter.queues.map { row.queue.map($0.contains) ?? false } ?? true)
                && (filter.vendorId.map { row.vendorId == $0 } ?? true)
                && (filter.source.map { row.source == $0 } ?? true)
                && (filter.statuses.map { $0.contains(row.status) } ?? true)
                && (filter.priorities.map { $0.contains(row.priority) } ?? true)
                && (filter.breached.map {
                    $0 == (row.breached || (row.nextDueAt.map { $0 < now } ?? false && TicketQueries.openStatuses.contains(row.status)))
                } ?? true)
                && (filter.dueBefore.map { due in row.nextDueAt.map { $0 < due } ?? false } ?? true)
                && (filter.holder.map { row.leaseHolder == $0 || row.assignee == $0 } ?? true)
        }.sorted {
            ($0.nextDueAt ?? noDue, $0.priority, $0.openedAt, $0.number) < ($1.nextDueAt ?? noDue, $1.priority, $1.openedAt, $1.number)
        }.map(\.id)
    }

    @Test("each filter, alone or together, pages through exactly its tickets in work order, ties and missing due instants included")
    func filtersAndPages() async throws {
        let rows = Self.rows(3_000, closedShare: 0.3, seed: 0x5EED_0001)
        let now = Self.base.addingTimeInterval(200 * 60)
        let filters: [TicketQueries.Filter] = [
            .init(),
            .init(queues: ["civicsoft-apps", "service-desk"]),
            .init(vendorId: "civicsoft", statuses: TicketQueries.openStatuses),
            .init(source: "email"),
            .init(priorities: ["P1", "P2"]),
            .init(breached: true),
            .init(breached: false),
            .init(dueBefore: Self.base.addingTimeInterval(100 * 60)),
            .init(holder: "agent:ada"),
            .init(queues: ["northwind-l1"], source: "portal", statuses: ["queued", "on-hold"], priorities: ["P3", "P4", "P5"],
                  dueBefore: Self.base.addingTimeInterval(300 * 60)),
        ]
        try await TestDatabase.withFresh(maximumConnections: 2) { db async throws in
            try await Self.insert(rows, into: db.client)
            let queries = TicketQueries(client: db.client)
            for filter in filters {
                let expected = Self.expected(rows, filter, now: now)
                #expect(!expected.isEmpty, "\(filter)")
                var listed: [UUID] = []
                var cursor: String?
                var pages = 0
                repeat {
                    let page = try await queries.list(filter, after: cursor, limit: 37, now: now)
                    listed += page.tickets.map(\.ticketId)
                    cursor = page.nextCursor
                    pages += 1
                } while cursor != nil && pages <= 200
                #expect(listed == expected, "\(filter)")
                #expect(pages == (expected.count + 36) / 37, "\(filter)")
            }
        }
    }

    @Test("a queue's page reads its own tickets in order even when the statistics predate the queue", arguments: [false, true])
    func queuePagesWithOldStatistics(genericPlans: Bool) async throws {
        // Statistics taken over 20,000 tickets of other queues; then 6,000 open tickets
        // arrive in a queue the statistics have never seen.
        var rows = Self.rows(20_000, closedShare: 0.5, seed: 0x5EED_0003).filter { $0.queue != "civicsoft-apps" }
        try await TestDatabase.withFresh(maximumConnections: 2) { db async throws in
            try await Self.insert(rows, into: db.client)
            var arrived = Self.rows(6_000, closedShare: 0, seed: 0x5EED_0004)
            for index in arrived.indices {
                arrived[index].number += 100_000
                (arrived[index].queue, arrived[index].vendorId) = ("civicsoft-apps", "civicsoft")
            }
            try await Self.insert(arrived, into: db.client, analyze: false)
            rows += arrived
            let queries = TicketQueries(client: db.client)
            let filter = TicketQueries.Filter(queues: ["civicsoft-apps"], statuses: TicketQueries.openStatuses)
            let expected = Self.expected(rows, filter, now: Self.base)
            try await db.client.withTransaction(genericPlans: genericPlans) { connection in
                let read = { try await Self.rowsRead(on: connection) }
                var cursor: String?
                for page in 0..<3 {
                    let before = try await read()
                    let listed = try await queries.list(filter, after: cursor, limit: 50, now: Self.base, on: connection)
                    let after = try await read()
                    #expect(listed.tickets.map(\.ticketId) == Array(expected[(page * 50)..<((page + 1) * 50)]))
                    #expect(after - before < 500, "page \(page) read \(after - before) rows")
                    cursor = listed.nextCursor
                }
            }
        }
    }

    @Test("a page reads about as many tickets as it shows, not every ticket, however many there are", arguments: [false, true])
    func pagesReadTheirOwnRows(genericPlans: Bool) async throws {
        // 20,000 tickets, 80% of them closed (no due instant, so last in work order).
        let rows = Self.rows(20_000, closedShare: 0.8, seed: 0x5EED_0002)
        try await TestDatabase.withFresh(maximumConnections: 2) { db async throws in
            try await Self.insert(rows, into: db.client)
            let queries = TicketQueries(client: db.client)
            let now = Self.base
            try await db.client.withTransaction(genericPlans: genericPlans) { connection in
                let read = { try await Self.rowsRead(on: connection) }
                for filter in [TicketQueries.Filter(), TicketQueries.Filter(statuses: TicketQueries.openStatuses)] {
                    var cursor: String?
                    // Three pages, run more than five times each way, so that a prepared
                    // statement's generic plan, if PostgreSQL comes to prefer it, is the one read.
                    for round in 0..<7 {
                        cursor = nil
                        for page in 0..<3 {
                            let before = try await read()
                            let listed = try await queries.list(filter, after: cursor, limit: 50, now: now, on: connection)
                            let after = try await read()
                            #expect(listed.tickets.map(\.ticketId) == Array(Self.expected(rows, filter, now: now)[(page * 50)..<((page + 1) * 50)]))
                            if round == 6 {
                                #expect(after - before < 500, "page \(page) of \(filter) read \(after - before) rows")
                            }
                            cursor = listed.nextCursor
                        }
                    }
                }
            }
        }
    }
}
