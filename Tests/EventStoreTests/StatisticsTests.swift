import EventStore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Statistics for a young log")
struct StatisticsTests {
    /// Appends `count` one-event streams on one connection, then has that backend hand its
    /// table statistics over at once (a backend otherwise reports them at most once a second).
    private func append(_ count: Int, to store: EventStore, on connection: PostgresConnection) async throws {
        try await connection.withTransaction { connection in
            let appends = (0..<count).map { _ in
                EventStore.Append(to: "ticket-\(UUID().uuidString.lowercased())", expectedVersion: .noStream, events: [event()])
            }
            for result in try await store.append(appends, on: connection) { _ = try result.get() }
        }
        try await connection.execute("SELECT pg_stat_force_next_flush()")
    }

    private func analyses(of table: String, _ client: PostgresClient) async throws -> Int64 {
        try await client.query("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = \(table)")[0].decode(Int64.self, at: 0)
    }

    @Test("baton_analyze_log analyzes the log, on a small sample, when more changed than half the rows of its last analysis, and only then")
    func analyzesOnlyStaleTables() async throws {
        try await TestDatabase.withFresh { db async throws in
            let store = db.eventStore
            // Only these calls analyze, so that the counts below are theirs.
            try await db.client.execute("ALTER TABLE events SET (autovacuum_enabled = false)")
            try await db.client.withConnection { connection in
                try await append(200, to: store, on: connection)
                try await db.client.execute("SELECT baton_analyze_log()")
                #expect(try await analyses(of: "events", db.client) == 1, "never analyzed: stale")
                let rows = try await db.client.query("SELECT reltuples::bigint FROM pg_class WHERE relname = 'events'")[0].decode(Int64.self, at: 0)
                #expect(rows == 200)

                // The function's statistics target (30), not the default (100): as many
                // histogram bounds as that, plus one, for 200 distinct positions.
                let bounds = try await db.client.query("""
                    SELECT cardinality(histogram_bounds::text::text[]) FROM pg_stats WHERE tablename = 'events' AND attname = 'position'
                    """)[0].decode(Int.self, at: 0)
                #expect(bounds == 31)

                try await db.client.execute("SELECT baton_analyze_log()")
                try await append(100, to: store, on: connection)
                try await db.client.execute("SELECT baton_analyze_log()")
                #expect(try await analyses(of: "events", db.client) == 1, "100 changes since an analysis of 200 rows: fresh enough")

                try await append(1, to: store, on: connection)
                try await db.client.execute("SELECT baton_analyze_log()")
                #expect(try await analyses(of: "events", db.client) == 2, "101 changes since an analysis of 200 rows: stale")
            }
        }
    }

    @Test("baton_analyze_read_model analyzes a stale read model once, and refuses a table that is not one")
    func readModels() async throws {
        try await TestDatabase.withFresh { db async throws in
            try await db.client.execute("ALTER TABLE rm_tickets SET (autovacuum_enabled = false)")
            try await db.client.execute("SELECT baton_analyze_read_model('rm_tickets')")
            try await db.client.execute("SELECT baton_analyze_read_model('rm_tickets')")
            #expect(try await analyses(of: "rm_tickets", db.client) == 1, "an empty table analyzed stays fresh")
            let refused = await #expect(throws: PostgresError.self) {
                try await db.client.execute("SELECT baton_analyze_read_model('events')")
            }
            #expect(refused?.sqlState == "42501")
        }
    }
}
