import BatonDomain
import BatonProjections
import EventStore
import Foundation
import Logging
import Postgres
import Synchronization

/// Grants leases. Requests for the same queues that arrive while a grant is being made are
/// served together by the next one, in one transaction: group commit for leases.
///
/// A grant locks the most urgent candidates in the read model (`FOR UPDATE SKIP LOCKED`, so
/// concurrent grants, here or on other replicas, never take the same ticket), with each
/// stream's version in the log; takes their streams as the tickets projection last folded
/// them (``TicketHistories``), reading from the log in one query only the events after those,
/// decides each lease with the domain, marks the rows leased, and
/// appends all the leases in one statement with each stream's version as the expected
/// version (last, as the append takes the log's head lock until commit), all before the row
/// locks are released. The next grant therefore skips these
/// tickets even before the projection has applied the leases; the projection then rewrites
/// the rows with the same facts. A ticket that changed since the read model saw it (leased,
/// accepted, moved) is refused by the domain or by its expected version, and skipped.
///
/// Requests are filled in the order they arrived, each with the most urgent tickets left,
/// up to its `max`. A lone request is served at once, on its own task; requests that come
/// while a grant for the same queues is being made wait for the next one (up to
/// ``maximumGrants`` run at once).
final class LeaseDesk: Sendable {
    /// One lease request.
    struct Request: Sendable {
        /// The queues to lease from (the caller's own).
        var queues: [String]
        /// The most tickets to lease.
        var max: Int
        /// The lease length; nil for each ticket's agreement's.
        var seconds: Int?
        var actor: Actor
    }

    /// The most tickets one grant takes for its requests together.
    static let maximumBatch = 64
    /// The most grants made at once for the same queues. One: a second grant made while the
    /// first commits (`SKIP LOCKED` passing over the first one's rows) was measured to cost
    /// more than it saved once the cores are busy: smaller batches, and two grants taking
    /// turns at the log's head lock, with about 25% more PostgreSQL CPU a lease. Other
    /// replicas still grant at the same time; `SKIP LOCKED` keeps them apart.
    static let maximumGrants = 1

    private struct State {
        var queued: [String: [PendingLease]] = [:]
        var granting: [String: Int] = [:]

        mutating func finishGrant(_ key: String) {
            let left = granting[key, default: 1] - 1
            granting[key] = left > 0 ? left : nil
        }
    }

    let commands: TicketCommands
    let queries: TicketQueries
    /// The tickets projection's decoded streams (see ``TicketHistories``).
    let histories: TicketHistories
    let agreements: AgreementCache
    let now: @Sendable () -> Date
    let logger: Logger
    private let state = Mutex(State())

    init(
        commands: TicketCommands, queries: TicketQueries, histories: TicketHistories, agreements: AgreementCache, logger: Logger,
        now: @escaping @Sendable () -> Date
    ) {
        self.commands = commands
        self.queries = queries
        self.histories = histories
        self.agreements = agreements
        self.logger = logger
        self.now = now
    }

    /// Leases up to `request.max` tickets; empty when none is free.
    func grant(_ request: Request) async throws -> [Ticket] {
        guard !request.queues.isEmpty else { return [] }
        let key = request.queues.joined(separator: "\u{1f}")
        let pending = PendingLease(request: request)
        let alone = state.withLock { state -> Bool in
            guard state.granting[key, default: 0] < Self.maximumGrants, state.queued[key, default: []].isEmpty else {
                state.queued[key, default: []].append(pending)
                return false
            }
            state.granting[key, default: 0] += 1
            return true
        }
        guard alone else {
            return try await withTaskCancellationHandler {
                try await pending.answer.result()
            } onCancel: {
                withdraw(pending, key: key)
            }
        }
        // Served at once on the caller's task; whatever queued meanwhile is served by a drain
        // of its own, so this caller's cancellation never fails the requests of others.
        await serve([pending])
        let more = state.withLock { state -> Bool in
            guard !state.queued[key, default: []].isEmpty else {
                state.finishGrant(key)
                return false
            }
            return true
        }
        if more { Task { await self.drain(key) } }
        return try await pending.answer.result()
    }

    /// Takes a cancelled request out of the queue, unless a grant has taken it up already
    /// (then it gets its leases, which run out unless renewed).
    private func withdraw(_ pending: PendingLease, key: String) {
        let withdrawn = state.withLock { state -> Bool in
            guard let index = state.queued[key]?.firstIndex(where: { $0.answer === pending.answer }) else { return false }
            state.queued[key]?.remove(at: index)
            return true
        }
        if withdrawn { pending.answer.complete(.failure(CancellationError())) }
    }

    private func drain(_ key: String) async {
        while true {
            let batch = state.withLock { state -> [PendingLease] in
                let queued = state.queued[key, default: []]
                guard !queued.isEmpty else {
                    state.queued[key] = nil
                    state.finishGrant(key)
                    return []
                }
                var batch: [PendingLease] = []
                var tickets = 0
                for pending in queued {
                    guard batch.isEmpty || tickets + pending.request.max <= Self.maximumBatch else { break }
                    batch.append(pending)
                    tickets += pending.request.max
                }
                state.queued[key] = Array(queued.dropFirst(batch.count))
                return batch
            }
            guard !batch.isEmpty else { return }
            await serve(batch)
        }
    }

    private func serve(_ batch: [PendingLease]) async {
        do {
            let requests = batch.map(\.request)
            // The agreements' lease lengths for the queues, read before the grant (cached).
            var lengths: [String: TimeInterval] = [:]
            if requests.contains(where: { $0.seconds == nil }) {
                for queue in requests[0].queues { lengths[queue] = try await agreements.leaseLength(queue: queue) }
            }
            // The whole grant in one hop to the database's threads: between hops a grant
            // waited its turn on the cooperative pool behind HTTP requests and projection
            // batches, holding its row locks, and those waits were most of a grant's time
            // under load. Its statements take two round trips (BEGIN with the
            // candidates; the marks, the append and COMMIT), and a third for the streams' events
            // when the projection has not folded them yet. Generic plans: every
            // statement of a grant is a key or array lookup, and the marks' UPDATE was
            // otherwise planned afresh for each grant.
            let granted = try await commands.tickets.store.client.withConnection { [lengths] connection in
                try await connection.withSession { session in
                    try session.withTransaction(genericPlans: true) { try self.lease(requests, lengths: lengths, in: $0) }
                }
            }
            for (pending, tickets) in zip(batch, granted) { pending.answer.complete(.success(tickets)) }
        } catch {
            for pending in batch { pending.answer.complete(.failure(error)) }
        }
    }

    /// One grant for `requests` (all for the same queues), inside the caller's transaction;
    /// `lengths` holds the agreements' lease length for each queue.
    private func lease(_ requests: [Request], lengths: [String: TimeInterval], in session: PostgresSession) throws -> [[Ticket]] {
        let instant = now()
        var wanted = requests.map(\.max)
        let candidates = try queries.leaseCandidates(
            queues: requests[0].queues, limit: wanted.reduce(0, +) + 2, now: instant, in: session)
        guard !candidates.isEmpty else { return requests.map { _ in [] } }
        let store = commands.tickets.store
        // Each candidate's stream as the log has it: held in `histories` (stored by the
        // writers of its events, and by the projection) when as far along as the version the
        // candidates' query saw, else with the events after those held read from the log.
        var held: [String: TicketHistories.Entry] = [:]
        var tails: [(stream: String, afterVersion: Int64)] = []
        for candidate in candidates {
            let stream = TicketStore.streamName(candidate.ticket.ticketId)
            let entry = histories.entry(stream)
            held[stream] = entry
            if (entry?.version ?? 0) < candidate.streamVersion { tails.append((stream, Int64(entry?.version ?? 0))) }
        }
        let recorded = Dictionary(grouping: try store.readStreamTails(tails, upTo: .max, in: session), by: \.stream)

        // Decide a lease on each candidate, most urgent first, for the earliest request that
        // still wants one.
        var decisions: [
            (request: Int, ticket: Ticket, candidate: TicketSummary, append: EventStore.Append,
             stream: TicketHistories.Entry, decided: [Stamped<TicketEvent>])
        ] = []
        for (candidate, stream) in candidates.map({ ($0.ticket, TicketStore.streamName($0.ticket.ticketId)) }) {
            guard let request = wanted.firstIndex(where: { $0 > 0 }) else { break }
            do {
                let entry = try (held[stream] ?? TicketHistories.Entry()).appending(recorded[stream, default: []])
                guard let state = TicketDecider.fold(entry.history), state.lease?.isActive(at: instant) != true
                else { continue }
                let version = Int64(entry.version)
                let length: TimeInterval
                if let seconds = requests[request].seconds {
                    length = TimeInterval(seconds)
                } else if let queue = candidate.queue, let known = lengths[queue] {
                    length = known
                } else {
                    length = AgreementCache.defaultLeaseLength
                }
                // Refused when accepted or moved since the read model saw it.
                guard let decided = try? commands.decider.decide(
                          .lease(until: Self.expiry(instant, plus: length)), state: state, by: requests[request].actor, at: instant),
                      !decided.isEmpty, let ticket = decided.reduce(state, { TicketDecider.evolve($0, $1) })
                else { continue }
                decisions.append((request, ticket, candidate, EventStore.Append(
                    to: stream, expectedVersion: .exact(version), events: try decided.map(TicketStore.newEvent)), entry, decided))
                wanted[request] -= 1
            } catch {
                // One ticket that cannot be read or decided must not fail everyone's grant.
                logger.error("skipped a lease candidate", metadata: ["ticket": "\(candidate.number)", "error": "\(error)"])
            }
        }
        guard !decisions.isEmpty else { return requests.map { _ in [] } }

        // Marked first and appended last: the append takes the log's head lock, held to commit.
        // Both go in one round trip with the COMMIT, so that the server appends as soon as the
        // rows are marked and commits as soon as the append is done, without waiting for this
        // thread to read each answer and send the next statement.
        let marks = queries.markLeasedStatement(decisions.compactMap { decision in
            decision.ticket.lease.map { (decision.ticket.id, $0.holder.rawValue, $0.expiresAt) }
        })
        let appends = decisions.map(\.append)
        let answers = try session.committing { try session.pipeline([marks, store.appendStatement(appends)]) }
        // Committed: what follows must not lose the leases made.
        let before: [UUID: TicketQueries.LeaseMark]
        do {
            before = try queries.leaseMarks(from: answers[0])
        } catch {
            // Without them no mark can be put back; the projection rewrites those rows.
            logger.error("could not read the rows' marks as they were", metadata: ["error": "\(error)"])
            before = [:]
        }
        let appended: [Result<AppendResult, any Error>]
        do {
            appended = try store.appendResults(appends, from: answers[1])
        } catch {
            logger.error("leases were recorded but their append's answer could not be read; they run out unless renewed", metadata: [
                "tickets": "\(decisions.map(\.candidate.number))", "error": "\(error)",
            ])
            throw error
        }
        var granted: [[Ticket]] = requests.map { _ in [] }
        var unmarked: [TicketQueries.LeaseMark] = []
        for (decision, result) in zip(decisions, appended) {
            switch result {
            case .success(let result):
                granted[decision.request].append(decision.ticket)
                // As the projection will read it back, so that it need not decode the lease.
                histories.store(
                    decision.stream.appending(
                        written: decision.decided, at: result.positions, bytes: decision.append.events.dataBytes),
                    for: result.stream)
            case .failure(let error):
                // Changed meanwhile (its expected version): not leased, and its row as it was.
                if !(error is WrongExpectedVersion) {
                    logger.error("a lease was not recorded", metadata: ["ticket": "\(decision.ticket.number)", "error": "\(error)"])
                }
                if let marks = before[decision.ticket.id] { unmarked.append(marks) }
            }
        }
        // Rare: a ticket that changed between its read and the append. Its row is put back
        // after the commit (the projection would rewrite it anyway, from that change); the
        // leases made are granted whatever happens here.
        do {
            try queries.restoreLeaseMarks(unmarked, in: session)
        } catch {
            logger.warning("could not put back the marks of leases not made", metadata: ["tickets": "\(unmarked.map(\.ticketId))", "error": "\(error)"])
        }
        return granted
    }
}

extension LeaseDesk {
    /// When a lease taken at `instant` for `length` runs out: on the next whole second, so
    /// that the instant the log keeps (milliseconds, in text) reads back as the very instant
    /// the lease path marked the row with. The projection's rewrite of the row then changes
    /// no indexed column (for a ticket whose last lease, if any, was recorded as ended), and
    /// PostgreSQL makes it in place (a HOT update), not with a new entry in each of the
    /// table's indexes.
    static func expiry(_ instant: Date, plus length: TimeInterval) -> Date {
        Date(timeIntervalSinceReferenceDate: (instant.timeIntervalSinceReferenceDate + length).rounded(.up))
    }
}

/// A lease request waiting for its grant.
private struct PendingLease: Sendable {
    let request: LeaseDesk.Request
    let answer = ResultSlot<[Ticket]>()
}
