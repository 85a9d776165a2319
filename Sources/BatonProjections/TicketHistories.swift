import BatonDomain
import EventStore
import Foundation
import Postgres
import Synchronization

/// Ticket streams as the log holds them, decoded for folding, kept in memory. The writers of
/// the busiest events (the ticket opener, the lease path) store what they append, as it reads
/// back from the log; the tickets projection stores each ticket it folds. The projection
/// then takes a ticket's events from here instead of decoding them or reading them from the
/// log, and the lease path takes its candidates from here when their stream has not moved on
/// since.
///
/// The log's events never change once written, so an entry is true for as long as it lasts:
/// the events of a stream up to its version. A reader compares that version with the
/// stream's, and reads from the log only the events after it.
///
/// Bounded by ``budget`` bytes: entries are kept in two generations, the older one dropped
/// whole when the newer one fills half the budget; an entry read from the older one moves to
/// the newer one. Tickets worked recently stay, as with least-recently-used eviction, at the
/// cost of a dictionary operation per read or write. Closed and cancelled tickets are not
/// kept (``keep(_:for:folding:)`` drops them): they take no more commands.
public final class TicketHistories: Sendable {
    /// A stream's events up to its ``version``, decoded, with their global positions.
    public struct Entry: Sendable {
        /// The stream's events from version 1, decoded for folding.
        public private(set) var history: [Stamped<TicketEvent>]
        /// Their global positions.
        public private(set) var positions: [Int64]
        /// The size of their stored JSON: what the cache's budget counts.
        public private(set) var bytes = 0

        /// The stream's version at the last event held.
        public var version: Int { history.count }
        /// The global position of the last event held.
        public var lastPosition: Int64 { positions.last ?? 0 }
        /// The position of the last event that placed the ticket in a queue, if any.
        public var placedPosition: Int64? {
            history.indices.last { history[$0].event.placesTicket }.map { positions[$0] }
        }

        /// No events yet.
        public init() {
            history = []
            positions = []
        }

        /// A stream's events from version 1, in order, as read from the log.
        public init(stream events: [RecordedEvent]) throws {
            self = try Entry().appending(events)
        }

        /// This entry with `events` (the stream's next ones, in order, as read) added.
        public func appending(_ events: [RecordedEvent]) throws -> Entry {
            var entry = self
            for event in events {
                entry.history.append(try TicketEvents.decodeForFolding(event))
                entry.positions.append(event.position)
                entry.bytes += event.data.count
            }
            return entry
        }

        /// This entry with `events` added as their writer appended them, at `positions`, with
        /// `bytes` of stored JSON: as they read back from the log (occurrence instants to the
        /// microsecond, instants in payloads to the millisecond as their JSON has them,
        /// routing traces left out), so that folding them gives what folding the stored events
        /// gives.
        public func appending(written events: [Stamped<TicketEvent>], at positions: [Int64], bytes: Int) -> Entry {
            precondition(events.count == positions.count, "one position per event")
            var entry = self
            for event in events {
                var stored = event
                stored.occurredAt = Date(microsecondsSince1970: event.occurredAt.microsecondsSince1970)
                switch event.event {
                case .routed(var routed):
                    routed.trace = []
                    stored.event = .routed(routed)
                case .leased(var leased):
                    leased.expiresAt = Self.asInJSON(leased.expiresAt)
                    stored.event = .leased(leased)
                case .putOnHold(var hold):
                    hold.until = hold.until.map(Self.asInJSON)
                    stored.event = .putOnHold(hold)
                case .slaWarningReached(var warning):
                    warning.dueAt = Self.asInJSON(warning.dueAt)
                    stored.event = .slaWarningReached(warning)
                case .slaBreached(var breach):
                    breach.dueAt = Self.asInJSON(breach.dueAt)
                    stored.event = .slaBreached(breach)
                default:
                    break
                }
                entry.history.append(stored)
            }
            entry.positions += positions
            entry.bytes += bytes
            return entry
        }

        /// `instant` as a payload's JSON gives it back (``ISO8601Instant``: to the millisecond).
        static func asInJSON(_ instant: Date) -> Date {
            ISO8601Instant.parse(ISO8601Instant.format(instant)) ?? instant
        }

        /// The stream's first `version` events (counted at the whole entry's ``bytes``).
        public func prefix(_ version: Int) -> Entry {
            var entry = self
            entry.history.removeLast(Swift.max(0, self.version - version))
            entry.positions.removeLast(Swift.max(0, self.version - version))
            return entry
        }
    }

    private struct Generations {
        var newer: [String: Entry] = [:]
        var older: [String: Entry] = [:]
        /// The bytes of the entries in `newer`.
        var newerBytes = 0
        var olderBytes = 0
    }

    /// The most bytes held, as the size of the events' stored JSON. Held decoded, without
    /// routing traces, they take from half that to about as much in the process's memory:
    /// 1.1 KB a ticket opened and routed with the example agreements (2.3 KB of JSON, most of
    /// it the trace); about the budget itself for tickets with long descriptions, as the
    /// allocator keeps what a dropped generation freed.
    public let budget: Int
    private let generations = Mutex(Generations())
    /// Frees a dropped generation (see ``freeElsewhere(_:)``).
    private let reclaim: @Sendable (consuming [String: Entry]) -> Void

    /// 128 MiB: some 58,000 tickets opened and routed with short texts.
    public static let defaultBudget = 128 << 20

    /// `budget`: the most bytes held (see ``budget``); 0 holds nothing.
    public convenience init(budget: Int = TicketHistories.defaultBudget) {
        self.init(budget: budget, reclaim: Self.freeElsewhere)
    }

    /// `reclaim` is given each generation dropped, to free.
    package init(budget: Int, reclaim: @escaping @Sendable (consuming [String: Entry]) -> Void) {
        self.budget = budget
        self.reclaim = reclaim
    }

    /// Frees a dropped generation on a thread of its own. A generation is up to half the
    /// budget, some 29,000 tickets at the default, and freeing 9,356 of them took 35 ms in a
    /// benchmark. Freed where it was dropped, that stalled whatever stored or read the entry
    /// that turned the generations over (a lease grant holding its row locks, or a projection
    /// batch) and every lease request waiting on it. Handing it over takes microseconds.
    private static func freeElsewhere(_ dropped: consuming [String: Entry]) {
        // Moved into the box, so that the last reference is released on the queue's thread.
        let box = Dropped(consume dropped)
        reclaimer.async { box.entries.withLock { $0 = [:] } }
    }

    private final class Dropped: Sendable {
        let entries: Mutex<[String: Entry]>
        init(_ entries: consuming [String: Entry]) { self.entries = Mutex(consume entries) }
    }

    private static let reclaimer = DispatchQueue(label: "baton.ticket-histories.reclaim", qos: .utility)

    /// The stream's entry, if held.
    public func entry(_ stream: String) -> Entry? {
        guard budget > 0 else { return nil }
        let (entry, dropped) = generations.withLock { generations -> (Entry?, [String: Entry]) in
            if let entry = generations.newer[stream] { return (entry, [:]) }
            guard let entry = generations.older.removeValue(forKey: stream) else { return (nil, [:]) }
            generations.olderBytes -= entry.bytes
            return (entry, Self.insert(entry, for: stream, into: &generations, budget: budget))
        }
        if !dropped.isEmpty { reclaim(consume dropped) }
        return entry
    }

    /// Holds `entry` for `stream`, unless one as far along is held already. An entry larger
    /// than a sixteenth of the budget (a ticket with a very long history) is not held: its
    /// readers go to the log, as without the cache.
    public func store(_ entry: Entry, for stream: String) {
        guard budget > 0 else { return }
        guard entry.bytes <= budget / 16 else { return forget(stream) }
        let dropped = generations.withLock { generations -> [String: Entry] in
            if let held = generations.newer[stream], held.version >= entry.version { return [:] }
            if let old = generations.older.removeValue(forKey: stream) { generations.olderBytes -= old.bytes }
            return Self.insert(entry, for: stream, into: &generations, budget: budget)
        }
        if !dropped.isEmpty { reclaim(consume dropped) }
    }

    /// Holds `entry` for `stream`, whose events fold to `ticket`, while the ticket takes
    /// commands; once it is closed or cancelled no reader wants it, and it is dropped.
    public func keep(_ entry: Entry, for stream: String, folding ticket: Ticket?) {
        if ticket?.status.isFinal == true {
            forget(stream)
        } else {
            store(entry, for: stream)
        }
    }

    /// Drops what is held for `stream`.
    public func forget(_ stream: String) {
        generations.withLock { generations in
            if let old = generations.newer.removeValue(forKey: stream) { generations.newerBytes -= old.bytes }
            if let old = generations.older.removeValue(forKey: stream) { generations.olderBytes -= old.bytes }
        }
    }

    /// How many tickets are held.
    public var count: Int {
        generations.withLock { $0.newer.count + $0.older.count }
    }

    /// Every entry held, by stream, without counting as a read: ``entry(_:)`` moves what it
    /// reads to the newer generation, and can turn the generations over.
    public var held: [String: Entry] {
        generations.withLock { $0.older.merging($0.newer) { _, newer in newer } }
    }

    /// How many bytes are held (as ``budget`` counts them).
    public var bytes: Int {
        generations.withLock { $0.newerBytes + $0.olderBytes }
    }

    /// Returns the generation dropped to make room, if any, for the caller to hand to
    /// `reclaim` outside the lock.
    private static func insert(_ entry: Entry, for stream: String, into generations: inout Generations, budget: Int) -> [String: Entry] {
        let held = generations.newer.index(forKey: stream)
        let heldBytes = held.map { generations.newer.values[$0].bytes } ?? 0
        if generations.newerBytes - heldBytes + entry.bytes <= budget / 2 {
            // Room in the newer generation. A ticket stored again as it goes on (the usual
            // case) is replaced where it is: one lookup, no delete that shifts the buckets.
            if let held { generations.newer.values[held] = entry } else { generations.newer[stream] = entry }
            generations.newerBytes += entry.bytes - heldBytes
            return [:]
        }
        if let held { generations.newer.remove(at: held) }
        let dropped = generations.older
        generations.older = generations.newer
        generations.olderBytes = generations.newerBytes - heldBytes
        generations.newer = [stream: entry]
        generations.newerBytes = entry.bytes
        return dropped
    }
}

extension TicketEvent {
    /// Whether the event places the ticket in a queue (routed or reassigned).
    fileprivate var placesTicket: Bool {
        switch self {
        case .routed, .reassigned: true
        default: false
        }
    }
}
