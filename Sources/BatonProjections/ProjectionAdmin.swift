import EventStore
import Foundation
import Postgres

/// Where projections stand, and rebuilding one from position 0.
public struct ProjectionAdmin: Sendable {
    public let store: EventStore
    public let projections: [any Projection]

    public init(store: EventStore, projections: [any Projection]) {
        self.store = store
        self.projections = projections
    }

    /// One projection's position against the log's head.
    public struct Status: Sendable, Equatable {
        public var name: String
        /// The last position applied (0: none).
        public var position: Int64
        /// The log's last position.
        public var head: Int64
        /// Events not applied yet.
        public var lagEvents: Int64 { head - position }
        /// How long ago the oldest event not applied yet was recorded (0 when caught up).
        public var lagSeconds: Double
        /// When the checkpoint last moved.
        public var updatedAt: Date?
    }

    public func status() async throws -> [Status] {
        try await store.client.withConnection { connection in
            let head = try await connection.query("SELECT position FROM event_log_head").first?.decode(Int64.self, at: 0) ?? 0
            var statuses: [Status] = []
            for projection in projections {
                let row = try await connection.query("""
                    SELECT position, updated_at FROM event_checkpoints WHERE name = \(projection.name)
                    """).first
                let position = try row?.decode(Int64.self, at: 0) ?? 0
                let updatedAt = try row?.decode(Date.self, at: 1)
                let oldest = try await connection.query("""
                    SELECT recorded_at FROM events WHERE position = \(position + 1)
                    """).first?.decode(Date.self, at: 0)
                statuses.append(Status(
                    name: projection.name, position: position, head: head,
                    lagSeconds: oldest.map { max(0, Date().timeIntervalSince($0)) } ?? 0, updatedAt: updatedAt))
            }
            return statuses
        }
    }

    /// Waits until every projection has applied the log up to `position` (tests, and callers
    /// that need to read what they wrote). Returns false after `timeout`.
    public func waitUntilApplied(_ position: Int64, timeout: Duration = .seconds(10)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await status().allSatisfy({ $0.position >= position }) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    public struct UnknownProjection: Error, CustomStringConvertible {
        public var name: String
        public var known: [String]
        public var description: String { "no projection is called \(name); known: \(known.joined(separator: ", "))" }
    }

    /// What a rebuild did.
    public struct RebuildSummary: Sendable, Equatable {
        public var name: String
        public var events: Int64
        public var seconds: Double
        public var eventsPerSecond: Double { seconds > 0 ? Double(events) / seconds : 0 }
    }

    /// Rebuilds `name` from position 0 into fresh `<table>_next` tables while the live tables
    /// keep serving, then swaps them in, in one transaction that also applies whatever was
    /// appended meanwhile and moves the live checkpoint. The live runner's next batch then
    /// finds its checkpoint moved, steps down and takes over again from the new position.
    ///
    /// The fresh tables get their unique indexes at once (the projection upserts by them)
    /// and their other indexes after the bulk of the log is in, which is much faster than
    /// keeping them up to date row by row. Tables the projection only inserts into during a
    /// rebuild (``Projection/rebuildInsertOnlyTables``) get their unique indexes and
    /// constraints after the load too. Batches commit without waiting for the disk: until
    /// the swap, a crash loses nothing but the fresh tables. The log is read in bulk up to
    /// its head as it stood at the start, each batch prepared (see
    /// ``Projection/prepareRebuild(_:head:on:suffix:)``) while earlier ones are written.
    /// What was appended since is applied batch by batch while the live tables still serve,
    /// and the swap's transaction, which locks them, applies only the last few events.
    public func rebuild(_ name: String, batchSize: Int = 10_000) async throws -> RebuildSummary {
        try await rebuild(name, batchSize: batchSize, bulkUpTo: nil)
    }

    /// As ``rebuild(_:batchSize:)``, loading only up to `bulkHead` (when given, and below
    /// the head) in bulk and leaving the rest to the swap's transaction.
    func rebuild(_ name: String, batchSize: Int, bulkUpTo bulkHead: Int64?) async throws -> RebuildSummary {
        guard let projection = projections.first(where: { $0.name == name }) else {
            throw UnknownProjection(name: name, known: projections.map(\.name))
        }
        let started = ContinuousClock.now
        let deferred = try await createFreshTables(for: projection)
        let head = Swift.min(try await store.headPosition(), bulkHead ?? .max)
        var (position, count) = try await bulkLoad(projection, upTo: head, batchSize: batchSize)
        try await finishFreshTables(deferred)
        // What was appended during the load and the index builds, applied in ordinary
        // transactions while the live tables serve on: the locked swap applies only the rest.
        while let applied = try await store.client.withTransaction(waitForDisk: false, { connection in
            try await applyNextBatch(of: projection, after: position, batchSize: batchSize, on: connection)
        }) {
            (position, count) = (applied.last, count + Int64(applied.count))
            if applied.count < batchSize { break }
        }
        try await store.client.withTransaction { connection in
            // Tables first, then the checkpoint: the same order as the live runner's batch.
            for table in projection.tables {
                try await connection.executeScript("LOCK TABLE \(table) IN ACCESS EXCLUSIVE MODE")
            }
            _ = try await connection.query("SELECT position FROM event_checkpoints WHERE name = \(projection.name) FOR UPDATE")
            while let applied = try await applyNextBatch(of: projection, after: position, batchSize: batchSize, on: connection) {
                (position, count) = (applied.last, count + Int64(applied.count))
            }
            for fresh in deferred {
                try await swapIn(fresh, on: connection)
            }
            _ = try await connection.execute("""
                INSERT INTO event_checkpoints (name, position) VALUES (\(projection.name), \(position))
                ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()
                """)
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return RebuildSummary(name: name, events: count, seconds: seconds)
    }

    /// Creates each table's empty `_next` copy, without the indexes (and, for insert-only
    /// tables, the constraints) that are cheaper to build after the load.
    private func createFreshTables(for projection: any Projection) async throws -> [DeferredTable] {
        try await store.client.withConnection { connection in
            var deferred: [DeferredTable] = []
            for table in projection.tables {
                try await connection.executeScript("""
                    DROP TABLE IF EXISTS \(table)_next;
                    CREATE TABLE \(table)_next (LIKE \(table) INCLUDING ALL);
                    """)
                let insertOnly = projection.rebuildInsertOnlyTables.contains(table)
                let constraints = insertOnly ? try await ConstraintDefinition.uniqueness(of: "\(table)_next", on: connection) : []
                for constraint in constraints {
                    try await connection.executeScript("ALTER TABLE \(table)_next DROP CONSTRAINT \(constraint.name)")
                }
                for index in try await IndexDefinition.all(of: "\(table)_next", on: connection) where insertOnly || !index.unique {
                    try await connection.executeScript("DROP INDEX \(index.name)")
                }
                deferred.append(DeferredTable(
                    table: table, live: try await IndexDefinition.all(of: table, on: connection), constraints: constraints, insertOnly: insertOnly))
            }
            return deferred
        }
    }

    /// Loads the log up to `head` into the fresh tables, and returns the last position loaded
    /// and the number of events.
    ///
    /// Batches are read one after another, each from where the last ended, and each is
    /// prepared (folded) as soon as it is read, while earlier ones are written: at most
    /// `lookahead` batches are read ahead of the one being written.
    private func bulkLoad(_ projection: any Projection, upTo head: Int64, batchSize: Int) async throws -> (position: Int64, count: Int64) {
        typealias Prepared = (batch: any PreparedBatch, last: Int64, count: Int)
        @Sendable func read(after previous: Task<[RecordedEvent], any Error>?) -> Task<[RecordedEvent], any Error> {
            Task { [store] in
                var position: Int64 = 0
                if let previous {
                    guard let last = try await previous.value.last else { return [] }
                    position = last.position
                }
                return try await store.client.withConnection { connection in
                    Array(try await store.readAll(after: position, limit: batchSize, on: connection).prefix { $0.position <= head })
                }
            }
        }
        @Sendable func prepare(_ read: Task<[RecordedEvent], any Error>) -> Task<Prepared?, any Error> {
            Task { [store] in
                let events = try await read.value
                guard let last = events.last else { return nil }
                return try await store.client.withConnection { connection in
                    (try await projection.prepareRebuild(events, head: head, on: connection, suffix: "_next"), last.position, events.count)
                }
            }
        }
        let lookahead = 2
        var reads: [Task<[RecordedEvent], any Error>] = []
        var preparing: [Task<Prepared?, any Error>] = []
        func readAhead() {
            reads.append(read(after: reads.last))
            preparing.append(prepare(reads.last!))
        }
        /// Stops the reads and preparations still in flight and waits for them, so that none
        /// holds a connection once the load is over.
        func settle() async {
            for task in preparing { task.cancel() }
            for task in reads { task.cancel() }
            for task in preparing { _ = await task.result }
            for task in reads { _ = await task.result }
        }
        for _ in 0..<lookahead { readAhead() }
        var position: Int64 = 0
        var count: Int64 = 0
        var batches = 0
        do {
            while let ready = try await preparing.removeFirst().value {
                reads.removeFirst()
                readAhead()
                try await write(ready.batch)
                position = ready.last
                count += Int64(ready.count)
                batches += 1
                // Give the planner a picture of the growing tables early, so that lookups by key
                // use their index rather than scanning; past a few batches it no longer changes.
                // (Insert-only tables are never looked up during the load.)
                if batches <= 16, batches & (batches - 1) == 0 {
                    try await store.client.withConnection { connection in
                        for table in projection.tables where !projection.rebuildInsertOnlyTables.contains(table) {
                            try await connection.executeScript("ANALYZE \(table)_next")
                        }
                    }
                }
            }
        } catch {
            await settle()
            throw error
        }
        await settle()
        return (position, count)
    }

    /// Writes a batch's independent parts (disjoint tables) in concurrent transactions, so that
    /// PostgreSQL writes them on as many cores.
    private func write(_ batch: any PreparedBatch) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for part in batch.independentParts {
                group.addTask { [store] in
                    try await store.client.withTransaction(waitForDisk: false) { connection in
                        try await part.write(on: connection, suffix: "_next")
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Gives each fresh table its deferred constraints, indexes and statistics, on a session
    /// of its own, so that the big tables' index builds share the cores.
    private func finishFreshTables(_ deferred: [DeferredTable]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for fresh in deferred {
                group.addTask { [store] in
                    try await store.client.withConnection { connection in
                        let table = fresh.table
                        for constraint in fresh.constraints {
                            try await connection.executeScript("ALTER TABLE \(table)_next ADD CONSTRAINT \(constraint.name) \(constraint.definition)")
                        }
                        for index in fresh.live where !index.unique || (fresh.insertOnly && !index.backsConstraint) {
                            try await connection.executeScript(index.definition(on: "\(table)_next", named: "\(index.name)_next"))
                        }
                        try await connection.executeScript("ANALYZE \(table)_next")
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Applies the batch after `position` to the fresh tables; nil when there is none.
    private func applyNextBatch(
        of projection: any Projection, after position: Int64, batchSize: Int, on connection: PostgresConnection
    ) async throws -> (last: Int64, count: Int)? {
        let batch = try await store.readAll(after: position, limit: batchSize, on: connection)
        guard let last = batch.last else { return nil }
        try await projection.apply(batch, on: connection, suffix: "_next")
        return (last.position, batch.count)
    }

    /// Replaces a live table with its fresh copy; the fresh indexes take the names of those
    /// they replace.
    private func swapIn(_ fresh: DeferredTable, on connection: PostgresConnection) async throws {
        let table = fresh.table
        let built = try await IndexDefinition.all(of: "\(table)_next", on: connection)
        try await connection.executeScript("""
            DROP TABLE \(table);
            ALTER TABLE \(table)_next RENAME TO \(table);
            GRANT SELECT, INSERT, UPDATE, DELETE ON \(table) TO baton_app;
            GRANT SELECT ON \(table) TO baton_auditor;
            """)
        var unmatched = fresh.live
        for index in built {
            guard let match = unmatched.firstIndex(where: { $0.shape == index.shape }) else { continue }
            if unmatched[match].name != index.name {
                try await connection.executeScript("ALTER INDEX \(index.name) RENAME TO \(unmatched[match].name)")
            }
            unmatched.remove(at: match)
        }
    }
}

/// A fresh table of a rebuild, with what it gets after the load.
private struct DeferredTable: Sendable {
    var table: String
    /// The live table's indexes.
    var live: [IndexDefinition]
    /// The fresh table's primary key and unique constraints, dropped for the load.
    var constraints: [ConstraintDefinition]
    /// Whether the fresh table was loaded without its unique indexes.
    var insertOnly: Bool
}

/// A primary key or unique constraint as `pg_get_constraintdef` describes it.
struct ConstraintDefinition: Sendable {
    var name: String
    /// `PRIMARY KEY (…)` or `UNIQUE (…)`.
    var definition: String

    static func uniqueness(of table: String, on connection: PostgresConnection) async throws -> [ConstraintDefinition] {
        try await connection.query("""
            SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = to_regclass(\(table)) AND contype IN ('p', 'u')
            ORDER BY conname
            """).map { ConstraintDefinition(name: try $0.decode(String.self, at: 0), definition: try $0.decode(String.self, at: 1)) }
    }
}

/// An index as `pg_indexes` describes it.
struct IndexDefinition: Sendable {
    var name: String
    /// `CREATE [UNIQUE] INDEX name ON schema.table USING …`
    var definition: String
    var unique: Bool
    /// Whether a primary key or unique constraint owns the index.
    var backsConstraint: Bool

    static func all(of table: String, on connection: PostgresConnection) async throws -> [IndexDefinition] {
        try await connection.query("""
            SELECT i.indexname, i.indexdef, x.indisunique, EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = c.oid AND k.contype IN ('p', 'u'))
            FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = to_regnamespace(i.schemaname)
            JOIN pg_index x ON x.indexrelid = c.oid
            WHERE i.schemaname = current_schema() AND i.tablename = \(table)
            ORDER BY i.indexname
            """).map {
            IndexDefinition(
                name: try $0.decode(String.self, at: 0), definition: try $0.decode(String.self, at: 1),
                unique: try $0.decode(Bool.self, at: 2), backsConstraint: try $0.decode(Bool.self, at: 3))
        }
    }

    /// The definition without its name and table: what two equal indexes on two tables share.
    var shape: String {
        guard let using = definition.range(of: " USING ") else { return definition }
        return (unique ? "UNIQUE" : "") + definition[using.lowerBound...]
    }

    /// This index's definition for `table` under another name.
    func definition(on table: String, named newName: String) -> String {
        guard let using = definition.range(of: " USING ") else { return definition }
        return "CREATE \(unique ? "UNIQUE " : "")INDEX \(newName) ON \(table)\(definition[using.lowerBound...])"
    }
}
