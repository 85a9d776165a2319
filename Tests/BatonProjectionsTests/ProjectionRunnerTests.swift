import BatonProjections
import EventStore
import Foundation
import Logging
import Metrics
import MetricsTestKit
import Postgres
import Synchronization
import TestSupport
import Testing

/// A projection that records which runner applied each position, in a table whose primary
/// key is the position: applying an event twice fails, skipping one leaves a gap.
struct RecordingProjection: Projection {
    let name = "recording"
    let tables = ["test_applied"]
    let runner: String
    /// Throws after applying its batch when this returns true (a crash mid-transaction).
    let failAfterApplying: @Sendable (Int64) -> Bool
    /// Told each batch's positions before it is applied.
    let willApply: @Sendable ([Int64]) -> Void

    init(
        runner: String, failAfterApplying: @escaping @Sendable (Int64) -> Bool = { _ in false },
        willApply: @escaping @Sendable ([Int64]) -> Void = { _ in }
    ) {
        self.runner = runner
        self.failAfterApplying = failAfterApplying
        self.willApply = willApply
    }

    struct Crash: Error {}

    func apply(_ events: [RecordedEvent], on connection: PostgresConnection, suffix: String) async throws {
        willApply(events.map(\.position))
        _ = try await connection.execute("""
            INSERT INTO \(unescaped: "test_applied\(suffix)") (position, runner)
            SELECT unnest(\(events.map(\.position))::bigint[]), \(runner)
            """)
        if failAfterApplying(events.last!.position) { throw Crash() }
    }

    static func createTable(_ client: PostgresClient) async throws {
        try await client.withConnection { try await $0.executeScript("CREATE TABLE test_applied (position bigint PRIMARY KEY, runner text NOT NULL)") }
    }
}

func appendEvents(_ store: EventStore, count: Int, stream: String = "test-\(UUID().uuidString)") async throws {
    for i in 0..<count {
        _ = try await store.append(
            to: stream, expectedVersion: .any,
            events: [NewEvent(type: "Noted", schemaVersion: 1, data: Array(#"{"i":\#(i)}"#.utf8), occurredAt: Date(), actor: "system")])
    }
}

/// Positions applied, in order, and by whom.
func applied(_ client: PostgresClient) async throws -> [(position: Int64, runner: String)] {
    try await client.query("SELECT position, runner FROM test_applied ORDER BY position").map {
        (try $0.decode(Int64.self, at: 0), try $0.decode(String.self, at: 1))
    }
}

@Suite("Projection runner: exactly once, one leader, take-over")
struct ProjectionRunnerTests {
    func runner(_ projection: some Projection, _ store: EventStore, batchSize: Int = 7) -> ProjectionRunner {
        var runner = ProjectionRunner(projection: projection, store: store, logger: Logger(label: "test"))
        runner.batchSize = batchSize
        runner.pollInterval = .milliseconds(100)
        runner.takeoverInterval = .milliseconds(200)
        return runner
    }

    @Test("the lag gauge gives the events left after each batch, down to 0 once caught up, and stays at 0 while idle")
    func lagGauge() async throws {
        try await TestDatabase.withFresh { db async throws in
            try await RecordingProjection.createTable(db.client)
            try await appendEvents(db.eventStore, count: 30)
            let metrics = TestMetrics()
            let r = withMetricsFactory(metrics) { runner(RecordingProjection(runner: "a"), db.eventStore) }
            let task = Task { try await r.run() }
            defer { task.cancel() }
            #expect(try await waitFor { try await applied(db.client).count == 30 })
            // Idle polls (every 100 ms) record 0 too: wait for one after the last batch.
            let lag = try metrics.expectGauge("baton_projection_lag_events", [("projection", "recording")])
            #expect(try await waitFor { lag.values.count > 5 })
            // Batches of 7: four full ones (each asks for the head), then one of 2 that ends at it.
            #expect(Array(lag.values.prefix(5)) == [23, 16, 9, 2, 0])
            #expect(lag.values.dropFirst(5).allSatisfy { $0 == 0 }, "\(lag.values)")
        }
    }

    @Test("a batch that fails after writing is rolled back with its checkpoint: no event is applied twice or skipped")
    func crashMidBatch() async throws {
        try await TestDatabase.withFresh { db async throws in
            try await RecordingProjection.createTable(db.client)
            try await appendEvents(db.eventStore, count: 60)
            // Every batch ending on a multiple of 3 crashes the first time it is applied.
            let crashed = Mutex(Set<Int64>())
            let projection = RecordingProjection(runner: "a") { last in
                last % 3 == 0 && crashed.withLock { $0.insert(last).inserted }
            }
            let task = Task { [r = runner(projection, db.eventStore)] in try await r.run() }
            defer { task.cancel() }
            #expect(try await waitFor { try await applied(db.client).count == 60 })
            let rows = try await applied(db.client)
            #expect(rows.map(\.position) == Array(1...60))
            #expect(try await CheckpointStore(client: db.client).position(of: "recording") == 60)
            #expect(!crashed.withLock { $0 }.isEmpty, "the test must have crashed at least one batch")
        }
    }

    @Test("two runners: only one applies; when it stops, the other takes over from the checkpoint")
    func takeOver() async throws {
        try await TestDatabase.withFresh(maximumConnections: 12) { db async throws in
            try await RecordingProjection.createTable(db.client)
            try await appendEvents(db.eventStore, count: 20)
            let first = Task { [r = runner(RecordingProjection(runner: "first"), db.eventStore)] in try await r.run() }
            #expect(try await waitFor { try await applied(db.client).count == 20 })
            let second = Task { [r = runner(RecordingProjection(runner: "second"), db.eventStore)] in try await r.run() }
            defer { second.cancel() }
            try await appendEvents(db.eventStore, count: 20)
            #expect(try await waitFor { try await applied(db.client).count == 40 })
            #expect(Set(try await applied(db.client).map(\.runner)) == ["first"], "the second runner must wait while the first leads")

            first.cancel()
            _ = await first.result
            try await appendEvents(db.eventStore, count: 20)
            #expect(try await waitFor { try await applied(db.client).count == 60 })
            let rows = try await applied(db.client)
            #expect(rows.map(\.position) == Array(1...60))
            #expect(rows.suffix(20).allSatisfy { $0.runner == "second" })
        }
    }

    @Test("a batch read while a rebuild's swap holds the tables waits for it, then steps down: nothing the swap applied is applied again")
    func waitsForSwap() async throws {
        try await TestDatabase.withFresh(maximumConnections: 8) { db async throws in
            try await RecordingProjection.createTable(db.client)
            try await appendEvents(db.eventStore, count: 10)
            let offered = Mutex<[Int64]>([])
            let projection = RecordingProjection(runner: "live", willApply: { positions in offered.withLock { $0 += positions } })
            let live = Task { [r = runner(projection, db.eventStore)] in try await r.run() }
            defer { live.cancel() }
            #expect(try await waitFor { try await applied(db.client).count == 10 })

            // A swap as ProjectionAdmin makes one: the tables, then the checkpoint, locked; the
            // events appended meanwhile applied by the swap, and the checkpoint moved past them.
            try await db.client.withTransaction { swap in
                try await swap.executeScript("LOCK TABLE test_applied IN ACCESS EXCLUSIVE MODE")
                _ = try await swap.query("SELECT position FROM event_checkpoints WHERE name = 'recording' FOR UPDATE")
                try await appendEvents(db.eventStore, count: 10)
                // The live runner has read those events and waits to lock the tables, before it
                // reads the checkpoint.
                #expect(try await waitFor {
                    try await db.client.query("""
                        SELECT 1 FROM pg_stat_activity
                        WHERE datname = \(db.name) AND wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE%'
                        """).count == 1
                })
                _ = try await swap.execute("INSERT INTO test_applied (position, runner) SELECT generate_series(11, 20), 'swap'")
                _ = try await swap.execute("UPDATE event_checkpoints SET position = 20 WHERE name = 'recording'")
            }
            try await appendEvents(db.eventStore, count: 10)
            #expect(try await waitFor { try await applied(db.client).count == 30 })
            let rows = try await applied(db.client)
            #expect(rows.map(\.position) == Array(1...30))
            #expect(rows.map(\.runner) == Array(repeating: "live", count: 10) + Array(repeating: "swap", count: 10) + Array(repeating: "live", count: 10))
            // The batch read during the swap was never offered to the projection.
            #expect(offered.withLock { $0 }.allSatisfy { !(11...20).contains($0) })
        }
    }
}
