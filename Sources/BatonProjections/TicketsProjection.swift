import BatonDomain
import EventStore
import Foundation
import Postgres
import Synchronization

/// The `tickets` projection: `rm_tickets` (every ticket's current state, and the work order
/// of its queue), `rm_sla_clocks` (every SLA clock of every ticket) and `rm_compliance`
/// (compliance per agreement, vendor, queue, month, priority, category and clock kind, kept
/// by subtracting what a ticket's old clocks counted and adding what its new ones count),
/// and what routing counts: `rm_queue_load` and `rm_agreement_intake`, kept the same way.
///
/// For each ticket a batch touches, it takes the ticket's stream up to the batch's end (its
/// earlier events from ``TicketHistories`` when held there, else from the log) and folds it with ``TicketDecider/fold(_:)`` and ``SLAClocks/compute(events:agreements:asOf:)``,
/// the same code commands and the API use, so the read model cannot drift from the domain.
/// Clocks are computed as of the ticket's last event, with the agreements and policy recorded
/// up to it: whether a running clock has passed its due instant since is for the query
/// (`due_at < now()`) or the SLA watcher's breach event. A rebuild folds each ticket once, with
/// its stream up to the rebuild's head (``prepareRebuild(_:head:on:suffix:)``).
public final class TicketsProjection: Projection {
    public let name = "tickets"
    public let tables = ["rm_tickets", "rm_sla_clocks", "rm_compliance", "rm_queue_load", "rm_agreement_intake"]
    let store: EventStore
    /// The streams folded, decoded, for the next batch that touches them (and the lease path).
    public let histories: TicketHistories
    /// The agreement set as of the last batch, per table suffix (live, or a rebuild's
    /// `_next`); reloaded when a batch records agreement events, and whenever a batch does
    /// not follow straight on from the last one this object prepared for those tables
    /// (another replica led meanwhile, a batch rolled back, a rebuild swapped tables, a
    /// rebuild starting over).
    private let agreements = Mutex<[String: (set: AgreementSet?, lastApplied: Int64)]>([:])
    /// A rebuild's agreement timeline, per table suffix, with the head it was read up to.
    private let timelines = Mutex<[String: (head: Int64, timeline: AgreementTimeline)]>([:])

    public init(store: EventStore, histories: TicketHistories = TicketHistories()) {
        self.store = store
        self.histories = histories
    }

    public func apply(_ events: [RecordedEvent], on connection: PostgresConnection, suffix: String) async throws {
        try await prepare(events, on: connection, suffix: suffix).write(on: connection, suffix: suffix)
    }

    /// Reads what the batch needs from the log and folds its tickets; writes nothing.
    public func prepare(_ events: [RecordedEvent], on connection: PostgresConnection, suffix: String) async throws -> any PreparedBatch {
        guard let last = events.last else { return TicketBatch() }
        var state: (set: AgreementSet?, lastApplied: Int64)
        // A batch that changes the agreements folds each ticket with them as of its own last
        // event, as a rebuild does, not as of the batch's end.
        var timeline: AgreementTimeline?
        let changesAgreements = events.contains { AgreementLog.isAgreementStream($0.stream) }
        if let previous = agreements.withLock({ $0[suffix] }), events.first?.position == previous.lastApplied + 1, !changesAgreements {
            state = previous
        } else if changesAgreements {
            let read = try await AgreementLog.timeline(upTo: last.position, on: connection)
            timeline = read
            state = (read.set(at: last.position), last.position)
        } else {
            state = (try await AgreementLog.agreementSet(upTo: last.position, on: connection), last.position)
        }
        state.lastApplied = last.position
        agreements.withLock { [state] in $0[suffix] = state }
        // Each touched ticket's whole stream up to the batch's end: from ``histories`` when
        // held there (stored by the writer of the events, or by the last batch that folded
        // the ticket), with the batch's later events decoded; else from the batch itself when
        // the batch holds it from its first event (most tickets, when catching up or
        // rebuilding); else read from the log after what is held.
        var (order, inBatch) = Self.ticketStreams(in: events, startingHereOnly: false)
        guard !order.isEmpty else { return TicketBatch() }
        let partial = order.filter { inBatch[$0]?.first?.streamVersion != 1 }
        var held: [String: TicketHistories.Entry] = [:]
        var tails: [(stream: String, afterVersion: Int64)] = []
        for stream in order {
            let batchEvents = inBatch[stream]!
            let (first, last) = (Int(batchEvents.first!.streamVersion), Int(batchEvents.last!.streamVersion))
            // One look: a writer may store a longer entry at any moment, and what is taken
            // here must end where the batch does.
            let entry = histories.entry(stream)
            if let entry, entry.version >= first - 1 {
                held[stream] = entry.prefix(last)
                inBatch[stream] = batchEvents.filter { $0.streamVersion > entry.version }
            } else if first != 1 {
                held[stream] = entry
                tails.append((stream, Int64(entry?.version ?? 0)))
            }
        }
        if !tails.isEmpty {
            let read = Dictionary(grouping: try await store.readStreamTails(tails, upTo: last.position, on: connection), by: \.stream)
            // What was read holds the batch's own events of the stream too (up to its end).
            for (stream, _) in tails { inBatch[stream] = read[stream] ?? [] }
        }
        let agreementSet = state.set
        let agreementsAt: @Sendable (Int64) -> AgreementSet?
        if let timeline { agreementsAt = { timeline.set(at: $0) } } else { agreementsAt = { _ in agreementSet } }
        return try await Self.batch(
            folding: order.map { ($0, held[$0], inBatch[$0] ?? []) }, agreements: agreementsAt, seenBefore: Set(partial),
            remembering: histories)
    }

    /// Prepares a batch of a rebuild that reads the log up to `head`: each ticket whose
    /// stream starts in `events` is folded once, with its events up to `head`, and copied in;
    /// the events of tickets that started in an earlier batch were folded then. No row is
    /// ever replaced, so the fresh tables need no unique index until the end (see
    /// ``rebuildInsertOnlyTables``). Each ticket's clocks use the agreements and policy as of
    /// its last event, as in ``prepare(_:on:suffix:)``.
    public func prepareRebuild(_ events: [RecordedEvent], head: Int64, on connection: PostgresConnection, suffix: String) async throws -> any PreparedBatch {
        let timeline = try await agreementTimeline(upTo: head, suffix: suffix, on: connection)
        var (order, inBatch) = Self.ticketStreams(in: events, startingHereOnly: true)
        guard !order.isEmpty else { return TicketBatch() }
        if let last = events.last?.position, last < head {
            let tails = order.map { (stream: $0, afterVersion: inBatch[$0]!.last!.streamVersion) }
            for event in try await store.readStreamTails(tails, upTo: head, on: connection) {
                inBatch[event.stream, default: []].append(event)
            }
        }
        return try await Self.batch(
            folding: order.map { ($0, nil, inBatch[$0]!) }, agreements: { timeline.set(at: $0) }, seenBefore: [], remembering: nil)
    }

    /// The batch's ticket events by stream, streams in order of first appearance; with
    /// `startingHereOnly`, only the streams whose first event is in the batch.
    private static func ticketStreams(in events: [RecordedEvent], startingHereOnly: Bool) -> (order: [String], events: [String: [RecordedEvent]]) {
        var byStream: [String: [RecordedEvent]] = [:]
        var order: [String] = []
        for event in events where event.stream.hasPrefix(TicketEvents.streamPrefix) {
            if byStream[event.stream] == nil {
                if startingHereOnly && event.streamVersion != 1 { continue }
                order.append(event.stream)
            }
            byStream[event.stream, default: []].append(event)
        }
        return (order, byStream)
    }

    /// The agreements' timeline up to `head`, read once per rebuild.
    private func agreementTimeline(upTo head: Int64, suffix: String, on connection: PostgresConnection) async throws -> AgreementTimeline {
        if let cached = timelines.withLock({ $0[suffix] }), cached.head == head { return cached.timeline }
        let timeline = try await AgreementLog.timeline(upTo: head, on: connection)
        timelines.withLock { $0[suffix] = (head, timeline) }
        return timeline
    }

    /// Folds each stream (the events held for it, if any, then those after) with the
    /// agreements as of its last event, spread over the cores (decoding, folding and clock
    /// arithmetic are pure), into a batch; `seenBefore` names the streams whose tickets
    /// already have rows. Each stream folded is stored in `histories`, or dropped from it when
    /// its ticket is closed or cancelled.
    private static func batch(
        folding streams: [(name: String, held: TicketHistories.Entry?, events: [RecordedEvent])],
        agreements: @escaping @Sendable (Int64) -> AgreementSet?, seenBefore: Set<String>, remembering histories: TicketHistories?
    ) async throws -> TicketBatch {
        let folded = try await withThrowingTaskGroup(of: (Int, [FoldedTicket]).self) { group in
            let parts = Swift.max(1, Swift.min(Self.cores, streams.count / 32))
            let size = (streams.count + parts - 1) / parts
            for part in 0..<parts {
                let slice = Array(streams[Swift.min(streams.count, part * size)..<Swift.min(streams.count, (part + 1) * size)])
                group.addTask {
                    (part, try slice.compactMap { stream in
                        let entry = try (stream.held ?? TicketHistories.Entry()).appending(stream.events)
                        let folded = FoldedTicket(entry, stream: stream.name, agreements: agreements(entry.lastPosition))
                        histories?.keep(entry, for: stream.name, folding: folded?.ticket)
                        return folded
                    })
                }
            }
            var results = [[FoldedTicket]](repeating: [], count: parts)
            for try await (part, tickets) in group { results[part] = tickets }
            return results.flatMap { $0 }
        }
        var batch = TicketBatch()
        for f in folded {
            // Only tickets seen by an earlier batch have rows to replace: a stream that starts
            // in this batch has none yet (most of them, when catching up or rebuilding).
            if seenBefore.contains(f.stream) {
                batch.updated.append(f)
                for clock in f.clocks { batch.updatedClocks.append(clock, ticket: f.ticket) }
            } else {
                batch.rows.append(f)
                for clock in f.clocks { batch.clocks.append(clock, ticket: f.ticket) }
            }
        }
        return batch
    }

    /// Read once: `ProcessInfo` reads /proc on every call.
    private static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// Copied in without a unique index during a rebuild: ``prepareRebuild(_:head:on:suffix:)``
    /// writes each ticket's row and clocks once.
    public var rebuildInsertOnlyTables: Set<String> { ["rm_tickets", "rm_sla_clocks"] }
}

/// A batch of the tickets projection, folded and ready to write.
private struct TicketBatch: PreparedBatch {
    /// Tickets with no row yet (their streams start in this batch): copied in.
    var rows = TicketRows()
    /// Tickets an earlier batch wrote rows for: upserted, so that a lease request holding
    /// such a row waits for the new version rather than losing it.
    var updated = TicketRows()
    /// The clocks of the tickets in `rows`: copied in.
    var clocks = ClockRows()
    /// The clocks of the tickets in `updated`: those new or changed are upserted, and the
    /// tickets' stored clocks that are not among them deleted.
    var updatedClocks = ClockRows()

    /// The tickets an earlier batch wrote rows for.
    var replaced: [UUID] { updated.ticketId }

    /// All of it in one hop to the database's threads (see ``PostgresSession``): some ten
    /// statements, every one of which otherwise waited its turn on the cooperative pool.
    func write(on connection: PostgresConnection, suffix: String) async throws {
        try await connection.withSession { [self] session in
            try writeTickets(in: session, suffix: suffix)
            try writeClocks(in: session, suffix: suffix)
        }
    }

    /// Tickets and queue load; clocks and compliance. Neither reads what the other writes.
    var independentParts: [any PreparedBatch] {
        [Part(batch: self, write: { try $0.writeTickets(in: $1, suffix: $2) }),
         Part(batch: self, write: { try $0.writeClocks(in: $1, suffix: $2) })]
    }

    private struct Part: PreparedBatch {
        let batch: TicketBatch
        let write: @Sendable (TicketBatch, PostgresSession, String) throws -> Void
        func write(on connection: PostgresConnection, suffix: String) async throws {
            try await connection.withSession { [batch, write] in try write(batch, $0, suffix) }
        }
    }

    private func writeTickets(in session: PostgresSession, suffix: String) throws {
        guard !rows.ticketId.isEmpty || !updated.ticketId.isEmpty else { return }
        var load = LoadChanges()
        if !replaced.isEmpty {
            for row in try session.query("""
                SELECT \(unescaped: TicketLoad.columns) FROM \(unescaped: "rm_tickets\(suffix)") WHERE ticket_id = ANY(\(replaced))
                """) {
                load.add(try TicketLoad(row: row), sign: -1)
            }
        }
        for tickets in [rows, updated] {
            for index in tickets.ticketId.indices {
                load.add(TicketLoad(agreementId: tickets.agreementId[index], queue: tickets.queue[index], status: tickets.status[index], queuedAt: tickets.queuedAt[index]))
            }
        }
        try updated.upsert(into: "rm_tickets\(suffix)", in: session)
        try rows.copy(into: "rm_tickets\(suffix)", in: session)
        try load.write(suffix: suffix, in: session)
    }

    private func writeClocks(in session: PostgresSession, suffix: String) throws {
        guard !rows.ticketId.isEmpty || !updated.ticketId.isEmpty else { return }
        var compliance = ComplianceChanges()
        let table = "rm_sla_clocks\(suffix)"
        var changed = ClockRows()
        if !replaced.isEmpty {
            // The replaced tickets' clocks as stored: what they counted is subtracted, and
            // only the folded rows that differ from them are written. Most events change none
            // of a ticket's clocks (a running clock's row holds nothing that moves with time;
            // a paused one's projected due instant does). Stored clocks the new fold no longer
            // has are deleted (rare).
            var stored: [ClockRow.Key: ClockRow] = [:]
            for row in try session.query("""
                SELECT \(unescaped: ClockRow.columns.joined(separator: ", ")) FROM \(unescaped: table) WHERE ticket_id = ANY(\(replaced))
                """) {
                let clock = try ClockRow(row: row)
                if let ended = clock.ended { compliance.add(ended, sign: -1) }
                stored[clock.key] = clock
            }
            for row in updatedClocks.rows where stored.removeValue(forKey: row.key) != row {
                changed.rows.append(row)
            }
            if !stored.isEmpty {
                let gone = Array(stored.keys)
                try session.execute("""
                    DELETE FROM \(unescaped: table)
                    WHERE (ticket_id, clock_id) IN (SELECT * FROM unnest(\(gone.map(\.ticketId))::uuid[], \(gone.map(\.clockId))::text[]))
                    """)
            }
        }
        try changed.upsert(into: table, in: session)
        try clocks.copy(into: table, in: session)
        for row in clocks.rows + updatedClocks.rows {
            if let ended = row.ended { compliance.add(ended) }
        }
        try compliance.write(into: "rm_compliance\(suffix)", in: session)
    }
}

/// One ticket folded from its stream, with its clocks.
private struct FoldedTicket: Sendable {
    var ticket: Ticket
    /// The stream up to its last event, decoded.
    var entry: TicketHistories.Entry
    var clocks: [SLAClock]
    var stream: String

    var history: [Stamped<TicketEvent>] { entry.history }
    var updatedAt: Date { entry.history.last!.occurredAt }
    var position: Int64 { entry.lastPosition }
    var placedPosition: Int64? { entry.placedPosition }

    /// `entry`: the stream `stream` up to its last event, decoded.
    init?(_ entry: TicketHistories.Entry, stream: String, agreements: AgreementSet?) {
        let history = entry.history
        guard let ticket = TicketDecider.fold(history), let last = history.last else { return nil }
        self.ticket = ticket
        self.entry = entry
        self.clocks = agreements.map { SLAClocks.compute(events: history, agreements: $0, asOf: last.occurredAt) } ?? []
        self.stream = stream
    }
}

/// Column arrays for one multi-row upsert into `rm_tickets`.
private struct TicketRows: Sendable {
    var ticketId: [UUID] = [], number: [Int64] = [], status: [String] = [], priority: [String] = []
    var category: [String] = [], site: [String?] = [], department: [String?] = [], subject: [String] = []
    var requester: [String] = [], source: [String] = [], externalReference: [String?] = []
    var queue: [String?] = [], agreementId: [String?] = [], agreementVersion: [Int32?] = [], vendorId: [String?] = []
    var assignee: [String?] = [], queuedAt: [Date?] = [], leaseHolder: [String?] = [], leaseExpiresAt: [Date?] = []
    var holdReason: [String?] = [], holdUntil: [Date?] = [], openedAt: [Date] = [], firstRespondedAt: [Date?] = []
    var resolvedAt: [Date?] = [], nextDueAt: [Date?] = [], nextWarningAt: [Date?] = [], breached: [Bool] = []
    var escalationLevel: [Int32] = [], version: [Int32] = [], updatedAt: [Date] = [], lastPosition: [Int64] = []
    var nextDeadlineAt: [Date?] = [], placedPosition: [Int64?] = []

    mutating func append(_ folded: FoldedTicket) {
        let (t, clocks, history) = (folded.ticket, folded.clocks, folded.history)
        ticketId.append(t.id)
        number.append(Int64(t.number.dropFirst(2)) ?? 0)
        status.append(t.status.rawValue)
        priority.append(t.priority.rawValue)
        category.append(t.details.category.rawValue)
        site.append(t.details.site)
        department.append(t.details.department)
        subject.append(t.details.subject)
        requester.append(t.details.requester)
        source.append(t.details.source)
        externalReference.append(t.details.externalReference)
        let placement = t.assignment?.placement
        queue.append(placement?.queue)
        agreementId.append(placement?.agreementId)
        agreementVersion.append(placement?.agreementVersion.map(Int32.init))
        vendorId.append(placement?.vendorId)
        assignee.append(t.assignment?.assignee?.rawValue)
        queuedAt.append(t.assignment?.since)
        leaseHolder.append(t.lease?.holder.rawValue)
        leaseExpiresAt.append(t.lease?.expiresAt)
        holdReason.append(t.hold?.reason.rawValue)
        holdUntil.append(t.hold?.until)
        openedAt.append(t.openedAt)
        firstRespondedAt.append(t.firstRespondedAt)
        resolvedAt.append(t.status == .resolved || t.status == .closed ? t.resolution.flatMap { _ in Self.resolvedAt(history) } : nil)
        // Work order: the clock that falls due first among those still running, of the
        // customer SLA and of the current assignment.
        let running = clocks.filter { $0.stoppedAt == nil && $0.dueAt != nil }
        let next = running.min { $0.dueAt! < $1.dueAt! }
        nextDueAt.append(next?.dueAt)
        nextWarningAt.append(next?.alarms.first { $0.threshold != nil }?.at)
        breached.append(clocks.contains { $0.status == .breached } || history.contains {
            if case .slaBreached = $0.event { return true } else { return false }
        })
        nextDeadlineAt.append(t.nextDeadline(clocks: clocks))
        escalationLevel.append(Int32(t.escalationLevel))
        version.append(Int32(t.version))
        updatedAt.append(folded.updatedAt)
        lastPosition.append(folded.position)
        placedPosition.append(folded.placedPosition)
    }

    static func resolvedAt(_ history: [Stamped<TicketEvent>]) -> Date? {
        history.last { if case .resolved = $0.event { true } else { false } }?.occurredAt
    }

    static let columns = [
        "ticket_id", "number", "status", "priority", "category", "site", "department", "subject", "requester", "source",
        "external_reference", "queue", "agreement_id", "agreement_version", "vendor_id", "assignee", "queued_at",
        "lease_holder", "lease_expires_at", "hold_reason", "hold_until", "opened_at", "first_responded_at", "resolved_at",
        "next_due_at", "next_warning_at", "breached", "escalation_level", "version", "updated_at", "last_position",
        "next_deadline_at", "placed_position",
    ]

    /// Inserts the rows with one binary COPY; none of these tickets may have a row yet.
    func copy(into table: String, in session: PostgresSession) throws {
        guard !ticketId.isEmpty else { return }
        var copy = PostgresCopyRows(columns: Self.columns)
        for i in ticketId.indices {
            copy.startRow()
            copy.append(ticketId[i]); copy.append(number[i]); copy.append(status[i]); copy.append(priority[i])
            copy.append(category[i]); copy.append(site[i]); copy.append(department[i]); copy.append(subject[i])
            copy.append(requester[i]); copy.append(source[i]); copy.append(externalReference[i]); copy.append(queue[i])
            copy.append(agreementId[i]); copy.append(agreementVersion[i]); copy.append(vendorId[i]); copy.append(assignee[i])
            copy.append(queuedAt[i]); copy.append(leaseHolder[i]); copy.append(leaseExpiresAt[i]); copy.append(holdReason[i])
            copy.append(holdUntil[i]); copy.append(openedAt[i]); copy.append(firstRespondedAt[i]); copy.append(resolvedAt[i])
            copy.append(nextDueAt[i]); copy.append(nextWarningAt[i]); copy.append(breached[i]); copy.append(escalationLevel[i])
            copy.append(version[i]); copy.append(updatedAt[i]); copy.append(lastPosition[i]); copy.append(nextDeadlineAt[i])
            copy.append(placedPosition[i])
        }
        try session.copy(into: table, copy)
    }

    /// Inserts or replaces the rows. The arrays are unnested in the select list, where
    /// PostgreSQL steps through them in lockstep; `FROM unnest(a, b, …)` would first copy
    /// each one into a tuplestore of its own.
    func upsert(into table: String, in session: PostgresSession) throws {
        guard !ticketId.isEmpty else { return }
        try session.execute("""
            INSERT INTO \(unescaped: table) (\(unescaped: Self.columns.joined(separator: ", ")))
            SELECT
                unnest(\(ticketId)::uuid[]), unnest(\(number)::bigint[]), unnest(\(status)::text[]),
                unnest(\(priority)::text[]), unnest(\(category)::text[]), unnest(\(site)::text[]),
                unnest(\(department)::text[]), unnest(\(subject)::text[]), unnest(\(requester)::text[]),
                unnest(\(source)::text[]), unnest(\(externalReference)::text[]), unnest(\(queue)::text[]),
                unnest(\(agreementId)::text[]), unnest(\(agreementVersion)::integer[]), unnest(\(vendorId)::text[]),
                unnest(\(assignee)::text[]), unnest(\(queuedAt)::timestamptz[]), unnest(\(leaseHolder)::text[]),
                unnest(\(leaseExpiresAt)::timestamptz[]), unnest(\(holdReason)::text[]),
                unnest(\(holdUntil)::timestamptz[]), unnest(\(openedAt)::timestamptz[]),
                unnest(\(firstRespondedAt)::timestamptz[]), unnest(\(resolvedAt)::timestamptz[]),
                unnest(\(nextDueAt)::timestamptz[]), unnest(\(nextWarningAt)::timestamptz[]),
                unnest(\(breached)::boolean[]), unnest(\(escalationLevel)::integer[]), unnest(\(version)::integer[]),
                unnest(\(updatedAt)::timestamptz[]), unnest(\(lastPosition)::bigint[]),
                unnest(\(nextDeadlineAt)::timestamptz[]), unnest(\(placedPosition)::bigint[])
            ON CONFLICT (ticket_id) DO UPDATE SET
                status = EXCLUDED.status, priority = EXCLUDED.priority, category = EXCLUDED.category,
                site = EXCLUDED.site, department = EXCLUDED.department, subject = EXCLUDED.subject,
                requester = EXCLUDED.requester, source = EXCLUDED.source, external_reference = EXCLUDED.external_reference,
                queue = EXCLUDED.queue, agreement_id = EXCLUDED.agreement_id, agreement_version = EXCLUDED.agreement_version,
                vendor_id = EXCLUDED.vendor_id, assignee = EXCLUDED.assignee, queued_at = EXCLUDED.queued_at,
                lease_holder = EXCLUDED.lease_holder, lease_expires_at = EXCLUDED.lease_expires_at,
                hold_reason = EXCLUDED.hold_reason, hold_until = EXCLUDED.hold_until, opened_at = EXCLUDED.opened_at,
                first_responded_at = EXCLUDED.first_responded_at, resolved_at = EXCLUDED.resolved_at,
                next_due_at = EXCLUDED.next_due_at, next_warning_at = EXCLUDED.next_warning_at, breached = EXCLUDED.breached,
                escalation_level = EXCLUDED.escalation_level, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at,
                last_position = EXCLUDED.last_position, next_deadline_at = EXCLUDED.next_deadline_at,
                placed_position = EXCLUDED.placed_position
            """)
    }
}

/// One row of `rm_sla_clocks`. Instants are kept as PostgreSQL stores them (whole
/// microseconds), so that a row read back equals the row folded again from the same events.
private struct ClockRow: Equatable, Sendable {
    struct Key: Hashable, Sendable {
        var ticketId: UUID
        var clockId: String
    }

    var ticketId: UUID, clockId: String, kind: String, level: String
    var agreementId: String?, agreementVersion: Int32?, vendorId: String?, queue: String?
    var priority: String, category: String, businessHours: Bool, startedAt: PostgresTimestamp
    var dueAt: PostgresTimestamp?, stoppedAt: PostgresTimestamp?, stopReason: String?, status: String
    /// Nil while the clock has not stopped: how far a running clock has got is its `dueAt`
    /// against now, and times as of the ticket's last event would change with every event.
    var pausedSeconds: Double?, elapsedSeconds: Double?, targetSeconds: Double

    var key: Key { Key(ticketId: ticketId, clockId: clockId) }

    init(_ clock: SLAClock, ticket: Ticket) {
        ticketId = ticket.id
        clockId = clock.id
        kind = clock.kind.rawValue
        switch clock.level {
        case .customer:
            level = "customer"
        case .assignment(_, let placement):
            level = placement.agreementId ?? "assignment"
            agreementId = placement.agreementId
            agreementVersion = placement.agreementVersion.map(Int32.init)
            vendorId = placement.vendorId
            queue = placement.queue
        }
        priority = clock.priority.rawValue
        category = ticket.details.category.rawValue
        businessHours = !clock.calendar.isTwentyFourSeven
        startedAt = PostgresTimestamp(clock.startedAt)
        dueAt = (clock.dueAt ?? clock.projectedDueAt).map(PostgresTimestamp.init)
        stoppedAt = clock.stoppedAt.map(PostgresTimestamp.init)
        stopReason = clock.stopReason?.rawValue
        status = clock.status.rawValue
        if clock.isStopped {
            pausedSeconds = clock.pauses.reduce(0) { $0 + (($1.to ?? clock.asOf).timeIntervalSince($1.from)) }
            elapsedSeconds = clock.elapsed
        }
        targetSeconds = clock.targetSeconds
    }

    static let columns = [
        "ticket_id", "clock_id", "kind", "level", "agreement_id", "agreement_version", "vendor_id", "queue", "priority",
        "category", "business_hours", "started_at", "due_at", "stopped_at", "stop_reason", "status", "paused_seconds",
        "elapsed_seconds", "target_seconds",
    ]

    /// A row read with ``columns``, in their order.
    init(row: PostgresRow) throws {
        ticketId = try row.decode(UUID.self, at: 0)
        clockId = try row.decode(String.self, at: 1)
        kind = try row.decode(String.self, at: 2)
        level = try row.decode(String.self, at: 3)
        agreementId = try row.decode(String?.self, at: 4)
        agreementVersion = try row.decode(Int32?.self, at: 5)
        vendorId = try row.decode(String?.self, at: 6)
        queue = try row.decode(String?.self, at: 7)
        priority = try row.decode(String.self, at: 8)
        category = try row.decode(String.self, at: 9)
        businessHours = try row.decode(Bool.self, at: 10)
        startedAt = try row.decode(PostgresTimestamp.self, at: 11)
        dueAt = try row.decode(PostgresTimestamp?.self, at: 12)
        stoppedAt = try row.decode(PostgresTimestamp?.self, at: 13)
        stopReason = try row.decode(String?.self, at: 14)
        status = try row.decode(String.self, at: 15)
        pausedSeconds = try row.decode(Double?.self, at: 16)
        elapsedSeconds = try row.decode(Double?.self, at: 17)
        targetSeconds = try row.decode(Double.self, at: 18)
    }

    /// The row as compliance counts it; nil while the clock has not stopped.
    var ended: EndedClock? {
        guard let stoppedAt, let pausedSeconds, let elapsedSeconds else { return nil }
        return EndedClock(
            agreementId: agreementId, vendorId: vendorId, queue: queue, kind: kind, priority: priority,
            category: category, status: status, startedAt: startedAt.date, stoppedAt: stoppedAt.date,
            pausedSeconds: pausedSeconds, elapsedSeconds: elapsedSeconds)
    }
}

/// Rows of `rm_sla_clocks`, written with one statement.
private struct ClockRows: Sendable {
    var rows: [ClockRow] = []

    mutating func append(_ clock: SLAClock, ticket: Ticket) {
        rows.append(ClockRow(clock, ticket: ticket))
    }

    /// Inserts the rows, or updates those already there, by (ticket, clock). Callers pass
    /// only rows that are new or differ from the stored ones: `ON CONFLICT DO UPDATE` locks
    /// every conflicting row (a heap write and a WAL record each), even when its condition
    /// then leaves the row alone.
    func upsert(into table: String, in session: PostgresSession) throws {
        guard !rows.isEmpty else { return }
        let updated = ClockRow.columns.dropFirst(2)
        try session.execute("""
            INSERT INTO \(unescaped: table) AS c (\(unescaped: ClockRow.columns.joined(separator: ", ")))
            SELECT * FROM unnest(
                \(rows.map(\.ticketId))::uuid[], \(rows.map(\.clockId))::text[], \(rows.map(\.kind))::text[],
                \(rows.map(\.level))::text[], \(rows.map(\.agreementId))::text[], \(rows.map(\.agreementVersion))::integer[],
                \(rows.map(\.vendorId))::text[], \(rows.map(\.queue))::text[], \(rows.map(\.priority))::text[],
                \(rows.map(\.category))::text[], \(rows.map(\.businessHours))::boolean[], \(rows.map(\.startedAt))::timestamptz[],
                \(rows.map(\.dueAt))::timestamptz[], \(rows.map(\.stoppedAt))::timestamptz[], \(rows.map(\.stopReason))::text[],
                \(rows.map(\.status))::text[], \(rows.map(\.pausedSeconds))::double precision[],
                \(rows.map(\.elapsedSeconds))::double precision[], \(rows.map(\.targetSeconds))::double precision[])
            ON CONFLICT (ticket_id, clock_id) DO UPDATE SET
                \(unescaped: updated.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", "))
            """)
    }

    /// Inserts the rows with one binary COPY; none of them may be there yet.
    func copy(into table: String, in session: PostgresSession) throws {
        guard !rows.isEmpty else { return }
        var copy = PostgresCopyRows(columns: ClockRow.columns)
        for row in rows {
            copy.startRow()
            copy.append(row.ticketId); copy.append(row.clockId); copy.append(row.kind); copy.append(row.level)
            copy.append(row.agreementId); copy.append(row.agreementVersion); copy.append(row.vendorId); copy.append(row.queue)
            copy.append(row.priority); copy.append(row.category); copy.append(row.businessHours); copy.append(row.startedAt)
            copy.append(row.dueAt); copy.append(row.stoppedAt); copy.append(row.stopReason); copy.append(row.status)
            copy.append(row.pausedSeconds); copy.append(row.elapsedSeconds); copy.append(row.targetSeconds)
        }
        try session.copy(into: table, copy)
    }
}
