import BatonAgreementFiles
import BatonDomain
@testable import BatonProjections
import BatonServer
import EventStore
import Foundation
import Logging
import Postgres
import PropertyBased
import TestSupport
import Testing

let exampleAgreements = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("deploy/examples/agreements.yaml")

/// Monday 2026-03-09 09:00 in Chicago (14:00 UTC): the service desk is open.
let monday = Date(timeIntervalSince1970: 1_773_064_800)

/// One step of a random history: which ticket, which action, and how many minutes later.
struct Step: Sendable, CustomStringConvertible {
    var ticket: Int
    var action: Int
    var minutes: Int
    var description: String { "t\(ticket)/a\(action)/+\(minutes)m" }
}

/// One integer encodes a step, so the generator shrinks towards "ticket 0, accept, soon".
let steps = Gen.int(in: 0...(4 * 14 * 600 - 1)).map { n in
    Step(ticket: n % 4, action: (n / 4) % 14, minutes: 1 + n / 56)
}

/// Runs a step's command; the domain refusing it (a ticket not in that state) is part of the game.
func perform(_ step: Step, ticketIds: [UUID], commands: TicketCommands, agreements: AgreementSet, queries: TicketQueries, at now: Date) async throws {
    let agent = Actor.agent("ada")
    let command: TicketCommand
    switch step.action {
    case 0: command = .accept
    case 1: command = .startWork
    case 2: command = .hold(.awaitingCustomer, note: "asked for the asset tag")
    case 3: command = .resume
    case 4: command = .resolve(code: "fixed", note: "done")
    case 5: command = .reopen(reason: "still broken")
    case 6: command = .close
    case 7: command = .comment("looking", visibility: .internal)
    case 8: command = .changePriority(.p1, reason: "mayor's office")
    case 9: command = .escalate(reason: "slow")
    case 10: command = .lease(until: now.addingTimeInterval(600))
    case 11: command = .releaseLease
    case 12: command = .reject(reason: "not ours")
    default: command = .cancel(reason: "duplicate")
    }
    do {
        _ = try await commands.execute(command, on: ticketIds[step.ticket], by: agent, at: now, then: { ticket in
            agreements.rerouteCommand(for: ticket, load: .none, at: now).map { ($0, .system) }
        })
    } catch is TicketError {
        // refused: nothing appended
    }
}

/// The live tickets projection, in batches of three (tickets then span batches, as in a long
/// log), polling every 50 ms.
func startLiveProjection(_ db: TestDatabase.Fresh, histories: TicketHistories = TicketHistories()) -> Task<Void, any Error> {
    var runner = ProjectionRunner(
        projection: TicketsProjection(store: db.eventStore, histories: histories), store: db.eventStore, logger: Logger(label: "test"))
    runner.batchSize = 3
    runner.pollInterval = .milliseconds(50)
    return Task { [runner] in try await runner.run() }
}

/// Runs `body` on a fresh database with the example agreements applied (at `monday`) and the
/// live tickets projection running (see ``startLiveProjection(_:)``), which `body` may stop;
/// it is cancelled when `body` returns.
func withLiveTickets(
    maximumConnections: Int, _ body: (TestDatabase.Fresh, Task<Void, any Error>) async throws -> Void
) async throws {
    let set = try AgreementsFile.load(contentsOf: exampleAgreements)
    try await TestDatabase.withFresh(maximumConnections: maximumConnections) { db async throws in
        _ = try await AgreementCatalog(store: db.eventStore).apply(set, actor: "admin:root", at: monday)
        let live = startLiveProjection(db)
        defer { live.cancel() }
        try await body(db, live)
    }
}

/// An opener that routes with the agreements recorded in `db`.
func ticketOpener(_ db: TestDatabase.Fresh, tickets: TicketStore, histories: TicketHistories = TicketHistories(budget: 0)) -> TicketOpener {
    TicketOpener(
        tickets: tickets, agreements: AgreementCache(catalog: AgreementCatalog(store: db.eventStore)), queries: TicketQueries(client: db.client),
        histories: histories)
}

/// Every row of a table, as JSON text, in primary-key order.
func snapshot(_ client: PostgresClient, _ table: String, orderBy: String) async throws -> [String] {
    try await client.query("SELECT row_to_json(t)::text FROM \(unescaped: table) t ORDER BY \(unescaped: orderBy)").map { try $0.decode(String.self, at: 0) }
}

/// Every index and constraint of the tables, by name, with its definition.
func indexesAndConstraints(_ client: PostgresClient, of tables: [String]) async throws -> [String] {
    try await client.query("""
        SELECT tablename || ' ' || indexname || ': ' || regexp_replace(indexdef, '^.* USING ', '') FROM pg_indexes
        WHERE schemaname = current_schema() AND tablename = ANY(\(tables))
        UNION ALL
        SELECT conrelid::regclass::text || ' ' || conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = ANY(SELECT to_regclass(t) FROM unnest(\(tables)::text[]) t)
        ORDER BY 1
        """).map { try $0.decode(String.self, at: 0) }
}

@Suite("The tickets projection equals a fold of the log")
struct TicketsProjectionTests {
    @Test("after random commands applied live in small batches, a rebuild from zero gives the same tables, and each row is the ticket's fold")
    func liveEqualsRebuild() async throws {
        let set = try AgreementsFile.load(contentsOf: exampleAgreements)
        // propertyCheck drops what its body throws: every error is recorded here instead.
        await propertyCheck(count: 4, input: steps.array(of: 10...40)) { history in await recordingErrors {
            try await TestDatabase.withFresh(maximumConnections: 8) { db async throws in
                _ = try await AgreementCatalog(store: db.eventStore).apply(set, actor: "admin:root", at: monday)
                // The opener stores each ticket as batond's does, for the projection to take
                // instead of decoding it.
                let histories = TicketHistories()
                let live = startLiveProjection(db, histories: histories)
                defer { live.cancel() }

                let tickets = TicketStore(store: db.eventStore)
                let queries = TicketQueries(client: db.client)
                let opener = ticketOpener(db, tickets: tickets, histories: histories)
                var ids: [UUID] = []
                for (i, category) in [TicketCategory.helpDesk, .desktopSupport, .wanLan, .applicationServices].enumerated() {
                    let details = TicketDetails(
                        source: "portal", externalReference: "P-\(i)", requester: "r@riverside.gov", site: "city-hall", department: nil,
                        category: category, subcategory: nil, impact: .medium, urgency: .high, subject: "ticket \(i)", description: "")
                    // At instants finer than the log keeps (microseconds): the projection must fold
                    // what the opener stored as it reads back.
                    let at = monday.addingTimeInterval(0.000_000_37 + 0.123_456 * Double(i))
                    ids.append(try await opener.open(details, priority: nil, by: .ingest("portal"), at: at).ticket.id)
                }
                let commands = TicketCommands(tickets: tickets)
                var now = monday.addingTimeInterval(1)
                // Halfway, the policy changes: tickets folded after it get other customer
                // clocks, those left alone keep the ones they had.
                var revised = set
                revised.customerSLA.warningThresholds = [0.9]
                revised.customerSLA.targets = revised.customerSLA.targets.mapValues { ServiceTargets(firstResponse: $0.resolution, resolution: $0.resolution) }
                for (index, step) in history.enumerated() {
                    if index == history.count / 2 {
                        #expect(try await !AgreementCatalog(store: db.eventStore).apply(revised, actor: "admin:root", at: now).isEmpty)
                    }
                    now = now.addingTimeInterval(TimeInterval(step.minutes * 60))
                    try await perform(step, ticketIds: ids, commands: commands, agreements: set, queries: queries, at: now)
                }
                let admin = ProjectionAdmin(store: db.eventStore, projections: [TicketsProjection(store: db.eventStore)])
                #expect(try await admin.waitUntilApplied(try await db.eventStore.headPosition(), timeout: .seconds(60)))
                live.cancel()
                _ = await live.result

                // Each row is what folding the ticket's stream gives.
                for id in ids {
                    let ticket = try #require(TicketDecider.fold(try await tickets.events(of: id)))
                    let row = try #require(try await db.client.query("""
                        SELECT status, priority, queue, version, lease_holder FROM rm_tickets WHERE ticket_id = \(id)
                        """).first)
                    #expect(try row.decode(String.self, at: 0) == ticket.status.rawValue)
                    #expect(try row.decode(String.self, at: 1) == ticket.priority.rawValue)
                    #expect(try row.decode(String?.self, at: 2) == ticket.assignment?.placement.queue)
                    #expect(Int(try row.decode(Int32.self, at: 3)) == ticket.version)
                    #expect(try row.decode(String?.self, at: 4) == ticket.lease?.holder.rawValue)
                    // Held in memory as the log has it, unless the ticket is finished.
                    let held = histories.entry(TicketStore.streamName(id))
                    if ticket.status == .closed || ticket.status == .cancelled {
                        #expect(held == nil)
                    } else {
                        #expect(held?.version == ticket.version)
                        #expect(held.flatMap { TicketDecider.fold($0.history) } == ticket)
                    }
                }
                let liveTickets = try await snapshot(db.client, "rm_tickets", orderBy: "ticket_id")
                let liveClocks = try await snapshot(db.client, "rm_sla_clocks", orderBy: "ticket_id, clock_id")
                let complianceOrder = "agreement_id, vendor_id, queue, kind, month, priority, category"
                let liveCompliance = try await snapshot(db.client, "rm_compliance", orderBy: complianceOrder)
                #expect(liveTickets.count == 4)
                #expect(!liveClocks.isEmpty)
                // Every clock that stopped met or breached is counted once, and nothing else is.
                #expect(try await db.client.query("SELECT COALESCE(sum(ended), 0)::bigint FROM rm_compliance")[0].decode(Int64.self, at: 0)
                    == (try await db.client.query("SELECT count(*) FROM rm_sla_clocks WHERE status IN ('met', 'breached') AND stopped_at IS NOT NULL")[0].decode(Int64.self, at: 0)))

                // Routing's counts equal counting the tickets themselves.
                let queueLoad = try await snapshot(db.client, "rm_queue_load", orderBy: "agreement_id, queue")
                let intake = try await snapshot(db.client, "rm_agreement_intake", orderBy: "agreement_id, month")
                #expect(try await db.client.query("""
                    SELECT agreement_id || '/' || queue || '=' || open_tickets FROM rm_queue_load ORDER BY 1
                    """).map { try $0.decode(String?.self, at: 0) ?? "-" } == (try await db.client.query("""
                    SELECT agreement_id || '/' || queue || '=' || count(*) FROM rm_tickets
                    WHERE status IN ('unassigned', 'queued', 'accepted', 'in-progress', 'on-hold') AND queue IS NOT NULL
                    GROUP BY agreement_id, queue ORDER BY 1
                    """).map { try $0.decode(String?.self, at: 0) ?? "-" }))
                #expect(try await db.client.query("""
                    SELECT agreement_id || '/' || month || '=' || tickets FROM rm_agreement_intake ORDER BY 1
                    """).map { try $0.decode(String.self, at: 0) } == (try await db.client.query("""
                    SELECT agreement_id || '/' || to_char(queued_at AT TIME ZONE 'UTC', 'YYYY-MM') || '=' || count(*) FROM rm_tickets
                    WHERE agreement_id IS NOT NULL AND queued_at IS NOT NULL
                    GROUP BY agreement_id, to_char(queued_at AT TIME ZONE 'UTC', 'YYYY-MM') ORDER BY 1
                    """).map { try $0.decode(String.self, at: 0) }))

                let head = try await db.eventStore.headPosition()
                let tables = ["rm_tickets", "rm_sla_clocks", "rm_compliance", "rm_queue_load", "rm_agreement_intake"]
                let liveSchema = try await indexesAndConstraints(db.client, of: tables)
                // Small batches, so tickets' streams run on past the batch they start in. The
                // second rebuild loads only half the log in bulk: its swap applies the rest
                // live, replacing the rows of tickets the bulk load wrote.
                for bulkHead in [head, head / 2] {
                    let summary = try await admin.rebuild("tickets", batchSize: 3, bulkUpTo: bulkHead)
                    #expect(summary.events == head)
                    #expect(try await snapshot(db.client, "rm_tickets", orderBy: "ticket_id") == liveTickets)
                    #expect(try await snapshot(db.client, "rm_sla_clocks", orderBy: "ticket_id, clock_id") == liveClocks)
                    #expect(try await snapshot(db.client, "rm_compliance", orderBy: complianceOrder) == liveCompliance)
                    #expect(try await snapshot(db.client, "rm_queue_load", orderBy: "agreement_id, queue") == queueLoad)
                    #expect(try await snapshot(db.client, "rm_agreement_intake", orderBy: "agreement_id, month") == intake)
                    #expect(try await CheckpointStore(client: db.client).position(of: "tickets") == head)
                    // The same indexes and constraints, under the same names, as the tables replaced.
                    #expect(try await indexesAndConstraints(db.client, of: tables) == liveSchema)
                }
            }
        } }
    }
}

/// Opens ticket `n` (a minute after the one before) and has an agent accept, comment on and
/// resolve it.
struct Workload: Sendable {
    let opener: TicketOpener
    let commands: TicketCommands

    func openAndWork(_ n: Int) async throws {
        let details = TicketDetails(
            source: "portal", externalReference: "R-\(n)", requester: "r@riverside.gov", site: "city-hall", department: nil,
            category: n % 2 == 0 ? .helpDesk : .desktopSupport, subcategory: nil, impact: .medium, urgency: .high,
            subject: "ticket \(n)", description: "")
        let at = monday.addingTimeInterval(Double(n) * 60)
        let opened = try await opener.open(details, priority: nil, by: .ingest("portal"), at: at)
        let work: [TicketCommand] = [.accept, .comment("on it", visibility: .internal), .resolve(code: "fixed", note: "done")]
        for (k, command) in work.enumerated() {
            _ = try await commands.execute(command, on: opened.ticket.id, by: .agent("ada"), at: at.addingTimeInterval(Double(k + 1) * 300))
        }
    }
}

/// Rebuilds the tickets projection from nothing (the live runner stopped) and expects every
/// table as it was: what was kept up live is what a quiet rebuild gives.
func expectRebuildKeeps(_ db: TestDatabase.Fresh, _ admin: ProjectionAdmin, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let order = ["rm_tickets": "ticket_id", "rm_sla_clocks": "ticket_id, clock_id",
                 "rm_compliance": "agreement_id, vendor_id, queue, kind, month, priority, category",
                 "rm_queue_load": "agreement_id, queue", "rm_agreement_intake": "agreement_id, month"]
    var kept: [String: [String]] = [:]
    for (table, orderBy) in order { kept[table] = try await snapshot(db.client, table, orderBy: orderBy) }
    _ = try await admin.rebuild("tickets", batchSize: 7)
    for (table, orderBy) in order {
        #expect(try await snapshot(db.client, table, orderBy: orderBy) == kept[table], "\(table)", sourceLocation: sourceLocation)
    }
}

@Suite("Rebuilding the tickets projection while batond runs")
struct RebuildWhileLiveTests {
    @Test("tickets opened and worked during a rebuild end up in the swapped tables, and the live runner carries on after the swap")
    func rebuildUnderLoad() async throws {
        try await withLiveTickets(maximumConnections: 12) { db, live async throws in
            let tickets = TicketStore(store: db.eventStore)
            let work = Workload(opener: ticketOpener(db, tickets: tickets), commands: TicketCommands(tickets: tickets))
            for n in 0..<40 { try await work.openAndWork(n) }
            let admin = ProjectionAdmin(store: db.eventStore, projections: [TicketsProjection(store: db.eventStore)])
            #expect(try await admin.waitUntilApplied(try await db.eventStore.headPosition(), timeout: .seconds(60)))

            // Tickets keep arriving while the rebuild reads, copies, catches up and swaps.
            let arriving = Task { for n in 40..<100 { try await work.openAndWork(n) } }
            let before = try await db.eventStore.headPosition()
            let summary = try await admin.rebuild("tickets", batchSize: 7)
            try await arriving.value
            let head = try await db.eventStore.headPosition()
            // Everything before it, and whatever arrived before its swap (in test runs so far,
            // every ticket of the sixty).
            #expect(summary.events >= before && summary.events <= head)
            #expect(try await admin.waitUntilApplied(head, timeout: .seconds(60)))
            #expect(try await db.client.query("SELECT count(*) FROM rm_tickets")[0].decode(Int64.self, at: 0) == 100)

            // What the live runner kept up after the swap is what a quiet rebuild gives.
            live.cancel()
            _ = await live.result
            try await expectRebuildKeeps(db, admin)
        }
    }
}

extension RebuildWhileLiveTests {
    @Test("a live batch that comes while the rebuild's real swap holds the tables waits in its LOCK TABLE, and the tables end as a quiet rebuild gives them")
    func liveBatchWaitsForTheSwap() async throws {
        try await withLiveTickets(maximumConnections: 12) { db, live async throws in
            let tickets = TicketStore(store: db.eventStore)
            let commands = TicketCommands(tickets: tickets)
            let work = Workload(opener: ticketOpener(db, tickets: tickets), commands: commands)
            for n in 0..<10 { try await work.openAndWork(n) }
            let admin = ProjectionAdmin(store: db.eventStore, projections: [TicketsProjection(store: db.eventStore)])
            #expect(try await admin.waitUntilApplied(try await db.eventStore.headPosition(), timeout: .seconds(60)))
            let ids = try await db.client.query("SELECT ticket_id FROM rm_tickets ORDER BY number").map { try $0.decode(UUID.self, at: 0) }
            let table = try #require(TicketsProjection(store: db.eventStore).tables.last)

            // A reader of the projection's last table stops the swap midway: it has locked the
            // tables before that one (rm_tickets first) and waits for the last.
            let (held, holding) = AsyncStream<Void>.makeStream()
            let (release, releasing) = AsyncStream<Never>.makeStream()
            defer { releasing.finish() }
            let reader = Task {
                try await db.client.withTransaction { connection in
                    _ = try await connection.query("SELECT count(*) FROM \(unescaped: table)")
                    holding.yield()
                    for await _ in release {}
                }
            }
            var heldIterator = held.makeAsyncIterator()
            _ = await heldIterator.next()
            let rebuilding = Task { try await admin.rebuild("tickets", batchSize: 7) }
            let waiting = { (pattern: String) in
                try await db.client.query("""
                    SELECT 1 FROM pg_stat_activity
                    WHERE datname = \(db.name) AND wait_event_type = 'Lock' AND query LIKE \(pattern)
                    """).count == 1
            }
            #expect(try await waitFor { try await waiting("LOCK TABLE \(table) IN ACCESS EXCLUSIVE MODE%") })

            // Events the live runner reads while the swap holds the tables: it waits to lock them
            // before it reads its checkpoint (not in a write, with the checkpoint already read).
            for id in ids.prefix(3) {
                _ = try await commands.execute(.comment("during the swap", visibility: .internal), on: id, by: .agent("ada"), at: monday.addingTimeInterval(86_400))
            }
            #expect(try await waitFor { try await waiting("LOCK TABLE rm_tickets, % IN ROW EXCLUSIVE MODE") })

            releasing.finish()
            try await reader.value
            let summary = try await rebuilding.value
            let head = try await db.eventStore.headPosition()
            // The swap applied the comments, and moved the checkpoint past them.
            #expect(summary.events == head)
            #expect(try await admin.waitUntilApplied(head, timeout: .seconds(60)))
            // The live runner carries on after the swap.
            _ = try await commands.execute(.comment("after the swap", visibility: .internal), on: ids[3], by: .agent("ada"), at: monday.addingTimeInterval(90_000))
            #expect(try await admin.waitUntilApplied(try await db.eventStore.headPosition(), timeout: .seconds(60)))

            // And the tables are what a quiet rebuild gives.
            live.cancel()
            _ = await live.result
            try await expectRebuildKeeps(db, admin)
        }
    }
}

@Suite("The tickets projection rewrites a ticket's clocks only where they changed")
struct ClockRewriteTests {
    @Test("a comment rewrites or locks no clock and deletes one the fold no longer has; a hold rewrites only the clocks it pauses")
    func onlyChangedClocks() async throws {
        try await withLiveTickets(maximumConnections: 8) { db, _ async throws in
            let tickets = TicketStore(store: db.eventStore)
            let commands = TicketCommands(tickets: tickets)
            let admin = ProjectionAdmin(store: db.eventStore, projections: [TicketsProjection(store: db.eventStore)])
            let details = TicketDetails(
                source: "portal", externalReference: "C-1", requester: "r@riverside.gov", site: "city-hall", department: nil,
                category: .helpDesk, subcategory: nil, impact: .medium, urgency: .high, subject: "printer", description: "")
            let id = try await ticketOpener(db, tickets: tickets).open(details, priority: nil, by: .ingest("portal"), at: monday).ticket.id
            _ = try await commands.execute(.accept, on: id, by: .agent("ada"), at: monday.addingTimeInterval(300))
            #expect(try await admin.waitUntilApplied(try await db.eventStore.headPosition(), timeout: .seconds(60)))

            // Each clock's status, row version (xmin: the transaction that wrote it) and the
            // last transaction that locked or deleted that version (xmax; 0 for none).
            let clocks = {
                try await db.client.query("SELECT clock_id, status, xmin::text, xmax::text FROM rm_sla_clocks WHERE ticket_id = \(id)")
                    .reduce(into: [String: (status: String, version: String, locker: String)]()) {
                        $0[try $1.decode(String.self, at: 0)] = (
                            try $1.decode(String.self, at: 1), try $1.decode(String.self, at: 2), try $1.decode(String.self, at: 3))
                    }
            }
            let accepted = try await clocks()
            // The first-response clocks stopped at the acceptance; the resolution clocks run.
            #expect(accepted.values.contains { $0.status == "running" })
            #expect(accepted.values.contains { $0.status != "running" })
            // A clock no fold of this ticket gives.
            try await db.client.execute("""
                INSERT INTO rm_sla_clocks (ticket_id, clock_id, kind, level, priority, category, business_hours, started_at,
                                           status, paused_seconds, elapsed_seconds, target_seconds)
                VALUES (\(id), 'stray/resolution', 'resolution', 'customer', 'P3', 'help-desk', false, \(monday),
                        'running', NULL, NULL, 3600)
                """)

            _ = try await commands.execute(.comment("on it", visibility: .internal), on: id, by: .agent("ada"), at: monday.addingTimeInterval(900))
            #expect(try await admin.waitUntilApplied(try await db.eventStore.headPosition(), timeout: .seconds(60)))
            let commented = try await clocks()
            #expect(Set(commented.keys) == Set(accepted.keys))
            for (clock, before) in accepted {
                let after = try #require(commented[clock])
                #expect(after.status == before.status)
                #expect(after.version == before.version, "\(before.status) \(clock) was rewritten")
                // An upsert that finds nothing to change still locks the row: a heap write each.
                #expect(after.locker == before.locker, "\(before.status) \(clock) was locked")
            }

            // Waiting for the customer pauses the running (resolution) clocks, and only they change.
            _ = try await commands.execute(
                .hold(.awaitingCustomer, note: "asked for the asset tag"), on: id, by: .agent("ada"), at: monday.addingTimeInterval(1_200))
            #expect(try await admin.waitUntilApplied(try await db.eventStore.headPosition(), timeout: .seconds(60)))
            let held = try await clocks()
            #expect(Set(held.keys) == Set(commented.keys))
            for (clock, before) in commented {
                let after = try #require(held[clock])
                if before.status == "running" {
                    #expect(after.status == "paused", "\(clock)")
                    #expect(after.version != before.version, "paused \(clock) was not written")
                } else {
                    #expect(after.status == before.status)
                    #expect(after.version == before.version, "stopped \(clock) was rewritten")
                }
            }
            // Once stopped, a clock's times are kept; while it runs or waits, they are not.
            let times = try await db.client.query("""
                SELECT count(*) FILTER (WHERE stopped_at IS NOT NULL AND elapsed_seconds IS NOT NULL AND paused_seconds IS NOT NULL),
                       count(*) FILTER (WHERE stopped_at IS NULL AND elapsed_seconds IS NULL AND paused_seconds IS NULL),
                       count(*)
                FROM rm_sla_clocks WHERE ticket_id = \(id)
                """)[0]
            let stoppedWithTimes = try times.decode(Int64.self, at: 0), waitingWithout = try times.decode(Int64.self, at: 1)
            #expect(stoppedWithTimes > 0 && waitingWithout > 0)
            #expect(stoppedWithTimes + waitingWithout == (try times.decode(Int64.self, at: 2)))
        }
    }
}

/// Runs `body`, recording what it throws as an issue of the current test.
func recordingErrors(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async {
    do { try await body() } catch { Issue.record(error, sourceLocation: sourceLocation) }
}
