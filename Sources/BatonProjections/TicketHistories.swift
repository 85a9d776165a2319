import BatonDomain
import EventStore
import Synchronization

/// Ticket streams as the log holds them, decoded for folding, kept in memory: the tickets
/// projection stores each ticket it folds, and reads a ticket's earlier events from here
/// instead of from the log when a later event comes; the lease path reads candidates from
/// here when their stream has not moved on since.
///
/// The log's events never change once written, so an entry is true for as long as it lasts:
/// the events of a stream up to its version. A reader compares that version with the
/// stream's, and reads from the log only the events after it.
///
/// Bounded by ``capacity`` tickets: entries are kept in two generations, the older one
/// dropped whole when the newer one fills half the capacity; an entry read from the older
/// one moves to the newer one. Tickets worked recently stay, as with least-recently-used
/// eviction, at the cost of a dictionary operation per read or write.
public final class TicketHistories: Sendable {
    /// A stream's events up to its ``version``, decoded, with what the projection takes from
    /// their records.
    public struct Entry: Sendable {
        /// The stream's events from version 1, decoded for folding.
        public var history: [Stamped<TicketEvent>]
        /// The global position of the last of them.
        public var lastPosition: Int64
        /// The position of the last event that placed the ticket in a queue, if any.
        public var placedPosition: Int64?

        /// The stream's version at the last event held.
        public var version: Int { history.count }

        public init(history: [Stamped<TicketEvent>], lastPosition: Int64, placedPosition: Int64?) {
            self.history = history
            self.lastPosition = lastPosition
            self.placedPosition = placedPosition
        }

        /// This entry with `events` (the stream's next ones, in order) added.
        public func appending(_ events: [RecordedEvent]) throws -> Entry {
            var entry = self
            for event in events {
                entry.history.append(try TicketEvents.decodeForFolding(event))
                entry.lastPosition = event.position
                if Self.places(event) { entry.placedPosition = event.position }
            }
            return entry
        }

        /// A stream's events from version 1, in order.
        public init(stream events: [RecordedEvent]) throws {
            self = try Entry(history: [], lastPosition: 0, placedPosition: nil).appending(events)
        }

        static func places(_ event: RecordedEvent) -> Bool {
            event.type == TicketRouted.typeName || event.type == TicketReassigned.typeName
        }
    }

    private struct Generations {
        var newer: [String: Entry] = [:]
        var older: [String: Entry] = [:]
    }

    /// The most tickets held.
    public let capacity: Int
    private let generations = Mutex(Generations())

    /// About 1.2 KB a ticket of a few events with short texts: some 60 MB.
    public static let defaultCapacity = 50_000

    public init(capacity: Int = TicketHistories.defaultCapacity) {
        self.capacity = capacity
    }

    /// The stream's entry, if held.
    public func entry(_ stream: String) -> Entry? {
        guard capacity > 0 else { return nil }
        let (entry, dropped) = generations.withLock { generations -> (Entry?, [String: Entry]) in
            if let entry = generations.newer[stream] { return (entry, [:]) }
            guard let entry = generations.older.removeValue(forKey: stream) else { return (nil, [:]) }
            return (entry, Self.insert(entry, for: stream, into: &generations, capacity: capacity))
        }
        _ = consume dropped  // freed here, outside the lock
        return entry
    }

    /// Holds `entry` for `stream`, unless one as far along is held already.
    public func store(_ entry: Entry, for stream: String) {
        guard capacity > 0 else { return }
        let dropped = generations.withLock { generations -> [String: Entry] in
            if let held = generations.newer[stream], held.version >= entry.version { return [:] }
            generations.older[stream] = nil
            return Self.insert(entry, for: stream, into: &generations, capacity: capacity)
        }
        _ = consume dropped  // freed here, outside the lock
    }

    /// Drops what is held for `stream`.
    public func forget(_ stream: String) {
        generations.withLock { generations in
            generations.newer[stream] = nil
            generations.older[stream] = nil
        }
    }

    /// How many tickets are held.
    public var count: Int {
        generations.withLock { $0.newer.count + $0.older.count }
    }

    /// Returns the generation dropped to make room, if any, for the caller to free outside
    /// the lock.
    private static func insert(_ entry: Entry, for stream: String, into generations: inout Generations, capacity: Int) -> [String: Entry] {
        var dropped: [String: Entry] = [:]
        if generations.newer[stream] == nil, generations.newer.count >= max(1, capacity / 2) {
            dropped = generations.older
            generations.older = generations.newer
            generations.newer = [:]
        }
        generations.newer[stream] = entry
        return dropped
    }
}
