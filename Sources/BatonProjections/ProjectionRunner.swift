import EventStore
import Foundation
import Logging
import Metrics
import Postgres
import ServiceLifecycle

/// Keeps one projection up to date, on exactly one batond replica at a time.
///
/// Each replica runs a runner per projection. A runner that takes the projection's session
/// advisory lock leads: it reads the events after the checkpoint in batches and applies each
/// batch and the checkpoint's compare-and-swap in one transaction. The others try the lock
/// again every `takeoverInterval`, so when the leader's replica dies (its session, and so its
/// lock, ends) another takes over within that interval and continues from the checkpoint. If
/// two ever applied at once (a lock lost without noticing), the checkpoint's compare-and-swap
/// lets only one batch through; the other runner rolls back and steps down.
///
/// The leader LISTENs for appends and also polls every `pollInterval`, so a lost notification
/// delays the projection, never stalls it. After each batch it notifies
/// ``ProjectionRunner/notificationChannel`` with `name:position`, which is what long-polling
/// lease requests wait for.
public struct ProjectionRunner: Service {
    /// Notified after each applied batch with `name:position`.
    public static let notificationChannel = "baton_projections"

    public let projection: any Projection
    public let store: EventStore
    public var batchSize = 1_000
    public var pollInterval: Duration = .seconds(1)
    public var takeoverInterval: Duration = .seconds(2)
    let logger: Logger
    let lag: Gauge
    let lagSeconds: Gauge

    public init(projection: any Projection, store: EventStore, logger: Logger) {
        self.projection = projection
        self.store = store
        var logger = logger
        logger[metadataKey: "projection"] = "\(projection.name)"
        self.logger = logger
        self.lag = Gauge(label: "baton_projection_lag_events", dimensions: [("projection", projection.name)])
        self.lagSeconds = Gauge(label: "baton_projection_lag_seconds", dimensions: [("projection", projection.name)])
    }

    /// Runs until cancelled or graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await leadWhilePossible()
                } catch is CancellationError {
                    return
                } catch {
                    if Task.isCancelled { return }
                    logger.error("projection stopped: \(String(describing: error)); trying again")
                }
                try? await Task.sleep(for: takeoverInterval)
            }
        }
    }

    /// Takes the lock if free and applies batches until cancelled or the lock is lost.
    func leadWhilePossible() async throws {
        try await Leadership(client: store.client, name: "projection:\(projection.name)").leadIfFree { session in
            logger.info("projection active on this replica")
            try await lead(session: session)
        }
    }

    private func lead(session: PostgresConnection) async throws {
        let checkpoints = CheckpointStore(client: store.client)
        var saved = try await checkpoints.position(of: projection.name)
        let signal = ChangeSignal()
        let listener = await store.listen(channels: [EventStore.notificationChannel], signalling: signal)
        defer { listener.stop() }
        var lastSessionCheck = ContinuousClock.now
        var analyzedAt = saved ?? 0
        while !Task.isCancelled {
            let seen = signal.generation
            // Everything on the session that holds the lock: under load the pool's connections
            // are all busy with requests, and the runner would wait its turn for one.
            let batch = try await store.readAll(after: saved ?? 0, limit: batchSize, on: session)
            if let last = batch.last {
                do {
                    try await session.withTransaction { connection in
                        // A rebuild may have swapped the tables and moved the checkpoint since
                        // this runner last saved it: then the batch is not this runner's to apply.
                        // The tables are locked first, in the order a swap locks them, so that a
                        // swap still running is waited for and the checkpoint read after it is
                        // the one it moved. Read first, the checkpoint could predate a swap not
                        // yet committed, and the batch was then written into the swapped-in
                        // tables over rows the swap had written (a duplicate key, and a retry).
                        if !projection.tables.isEmpty {
                            try await connection.executeScript("LOCK TABLE \(projection.tables.joined(separator: ", ")) IN ROW EXCLUSIVE MODE")
                        }
                        let current = try await checkpoints.position(of: projection.name, on: connection)
                        guard current == saved else {
                            throw CheckpointConflict(name: projection.name, expected: saved, actual: current)
                        }
                        try await projection.apply(batch, on: connection, suffix: "")
                        try await checkpoints.save(projection.name, from: saved, to: last.position, on: connection)
                    }
                } catch let conflict as CheckpointConflict {
                    logger.warning("another runner moved the checkpoint (\(conflict)); stepping down")
                    return
                }
                saved = last.position
                // Announced after the commit, in a transaction of its own that adds no WAL
                // flush. PostgreSQL serialises the commits of all notifying transactions,
                // WAL flush included, behind one lock: notifying inside the batch put every
                // batch's flush in line with every append's. Waiters also poll, so a lost
                // announcement only delays them; a broken session shows at the next read.
                // BEGIN, the notification and COMMIT go in one round trip.
                do {
                    let payload = "\(projection.name):\(last.position)"
                    _ = try await session.withSession { session in
                        try session.withTransaction(waitForDisk: false) { session in
                            try session.committing { try session.execute("SELECT pg_notify(\(Self.notificationChannel), \(payload))") }
                        }
                    }
                } catch let error where !(error is CancellationError) {
                    logger.warning("applied up to \(last.position) but could not announce it: \(error)")
                }
                // While the log is young its tables and the read models grow fast, faster
                // than autovacuum refreshes their statistics; a plan made for a table of a
                // few rows walks a whole queue, or the whole log for each batch (cached
                // generic plans are only remade when statistics change). Analyze each time
                // the log has doubled (some 20 times in the life of a million events),
                // beside the batches rather than between them; after that autovacuum keeps up.
                if last.position >= Swift.max(1_000, 2 * analyzedAt) {
                    analyzedAt = last.position
                    Task { [store, projection, logger] in
                        do {
                            try await store.client.execute("SELECT baton_analyze_log()")
                            for table in projection.tables {
                                try await store.client.execute("SELECT baton_analyze_read_model(\(table))")
                            }
                        } catch {
                            logger.debug("read model statistics not refreshed: \(error)")
                        }
                    }
                }
                // A batch short of the limit ended at the head as it was read: no lag then, and
                // no round trip to ask for the head after each batch.
                let full = batch.count == batchSize
                let head = full ? try await store.headPosition(on: session) : last.position
                lag.record(Double(head - last.position))
                lagSeconds.record(max(0, Date().timeIntervalSince(last.recordedAt)))
                if full { continue }
            } else {
                lag.record(0)
                lagSeconds.record(0)
                await signal.wait(since: seen, timeout: pollInterval)
            }
            // The lock lives as long as the session: make sure the session still does.
            if ContinuousClock.now - lastSessionCheck > takeoverInterval {
                _ = try await session.query("SELECT 1")
                lastSessionCheck = .now
            }
        }
    }
}
