import EventStore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("EventStore: global order and subscriptions")
struct SubscriptionTests {
    /// Collects `count` events from a subscription (or fails after `timeout`).
    func collect(_ subscription: EventSubscription, count: Int, timeout: Duration = .seconds(30)) async throws -> [RecordedEvent] {
        try await withThrowingTaskGroup(of: [RecordedEvent]?.self) { group in
            group.addTask {
                var seen: [RecordedEvent] = []
                for try await event in subscription {
                    seen.append(event)
                    if seen.count == count { break }
                }
                return seen
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            return try #require(first, "the subscription did not deliver \(count) events in time")
        }
    }

    @Test("10 streams × 10 concurrent appends, some held open: a live subscriber sees exactly 100 events, in order, none twice")
    func orderedDelivery() async throws {
        try await TestDatabase.withFresh(maximumConnections: 12) { db async throws in
            let store = db.eventStore
            let subscriber = Task { try await collect(store.subscribe(after: 0, pollInterval: .seconds(30)), count: 100) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for stream in 0..<10 {
                    for n in 0..<10 {
                        group.addTask {
                            if n % 4 == 0 {
                                // Hold this append's transaction open so commits interleave.
                                try await db.client.withTransaction { connection in
                                    _ = try await store.append(to: "ticket-\(stream)", expectedVersion: .any, events: [event("TicketCommented", "\(stream)-\(n)")], on: connection)
                                    try await Task.sleep(for: .milliseconds(30))
                                }
                            } else {
                                _ = try await store.append(to: "ticket-\(stream)", expectedVersion: .any, events: [event("TicketCommented", "\(stream)-\(n)")])
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let seen = try await subscriber.value
            #expect(seen.count == 100)
            #expect(seen.map(\.position) == Array(1...100))
            #expect(Set(seen.map(\.id)).count == 100)
            for stream in 0..<10 {
                #expect(seen.filter { $0.stream == "ticket-\(stream)" }.map(\.streamVersion) == Array(1...10))
            }
        }
    }

    @Test("a subscriber whose notification connection is killed still delivers every event")
    func survivesListenerLoss() async throws {
        try await TestDatabase.withFresh { db async throws in
            let store = db.eventStore
            // A poll interval far past the timeout: only notifications (and the reconnect) can
            // deliver in time. The timeout covers the whole test, which on a busy run (every
            // suite starting at once) took over 20 s; when it ran out, the subscription, and
            // with it the listener, stopped before the listener could be found and killed.
            let subscriber = Task { try await collect(store.subscribe(after: 0, pollInterval: .seconds(600)), count: 20, timeout: .seconds(120)) }
            for n in 0..<10 { _ = try await store.append(to: "ticket-a", expectedVersion: .any, events: [event("TicketCommented", "\(n)")]) }
            // Through this database's own pool: the shared admin pool has two connections,
            // which every test's CREATE DATABASE queues for when the suites start.
            let listening = try await waitFor {
                try await db.client.query("""
                    SELECT 1 FROM pg_stat_activity WHERE datname = \(db.name) AND application_name = 'baton-listener'
                    """).count == 1
            }
            #expect(listening)
            let killed = try await db.client.query("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = \(db.name) AND application_name = 'baton-listener'
                """)
            #expect(killed.count == 1)
            for n in 10..<20 { _ = try await store.append(to: "ticket-a", expectedVersion: .any, events: [event("TicketCommented", "\(n)")]) }
            let seen = try await subscriber.value
            #expect(seen.map(\.position) == Array(1...20))
        }
    }

    @Test("a subscriber that does not LISTEN (as on a replica) still gets every event by polling")
    func pollingFallback() async throws {
        try await TestDatabase.withFresh { db async throws in
            let store = db.eventStore
            let iterator = store.subscribe(after: 0, pollInterval: .milliseconds(50), listen: false).makeAsyncIterator()
            _ = try await store.append(to: "ticket-b", expectedVersion: .any, events: [event()])
            #expect(try await iterator.next()?.position == 1)
            // While the subscription is live, no listener connection exists.
            let listeners = try await db.client.query("SELECT count(*) FROM pg_stat_activity WHERE datname = \(db.name) AND application_name = 'baton-listener'")
            #expect(try listeners[0].decode(Int.self, at: 0) == 0)
            for n in 0..<4 { _ = try await store.append(to: "ticket-b", expectedVersion: .any, events: [event("TicketCommented", "\(n)")]) }
            var positions: [Int64] = []
            for _ in 0..<4 { positions.append(try #require(try await iterator.next()).position) }
            #expect(positions == [2, 3, 4, 5])
        }
    }

    @Test("a subscription resumes after a position without repeating it")
    func resumesFromPosition() async throws {
        try await TestDatabase.withFresh { db async throws in
            let store = db.eventStore
            for n in 0..<6 { _ = try await store.append(to: "ticket-c", expectedVersion: .any, events: [event("TicketCommented", "\(n)")]) }
            let rest = try await collect(store.subscribe(after: 4), count: 2)
            #expect(rest.map(\.position) == [5, 6])
        }
    }

    @Test("readAll pages through the log in batches, in order")
    func readAllBatches() async throws {
        try await TestDatabase.withFresh { db async throws in
            let store = db.eventStore
            for n in 0..<25 { _ = try await store.append(to: "ticket-\(n % 3)", expectedVersion: .any, events: [event()]) }
            var sizes: [Int] = []
            var positions: [Int64] = []
            for try await batch in store.readAll(after: 3, batchSize: 10) {
                sizes.append(batch.count)
                positions += batch.map(\.position)
            }
            #expect(sizes == [10, 10, 2])
            #expect(positions == Array(4...25))
        }
    }
}

@Suite("EventStore: checkpoints")
struct CheckpointTests {
    @Test("checkpoints move by compare-and-swap, and roll back with their transaction")
    func compareAndSwap() async throws {
        try await TestDatabase.withFresh { db async throws in
            let checkpoints = CheckpointStore(client: db.client)
            #expect(try await checkpoints.position(of: "tickets") == nil)
            try await checkpoints.save("tickets", from: nil, to: 10)
            try await checkpoints.save("tickets", from: 10, to: 25)
            let stale = await #expect(throws: CheckpointConflict.self) { try await checkpoints.save("tickets", from: 10, to: 30) }
            #expect(stale?.actual == 25)
            await #expect(throws: CheckpointConflict.self) { try await checkpoints.save("tickets", from: nil, to: 1) }
            struct Crash: Error {}
            await #expect(throws: Crash.self) {
                try await db.client.withTransaction { connection in
                    try await checkpoints.save("tickets", from: 25, to: 40, on: connection)
                    throw Crash()
                }
            }
            #expect(try await checkpoints.position(of: "tickets") == 25)
        }
    }
}
