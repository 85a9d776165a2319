import BatonSchema
import EventStore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("EventStore: migrations")
struct MigratorTests {
    @Test("applying twice is a no-op")
    func idempotent() async throws {
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            let migrator = Migrator(client: db.client, migrations: BatonSchema.migrations)
            #expect(try await migrator.status().pending == BatonSchema.migrations.map(\.name))
            #expect(try await migrator.migrate() == BatonSchema.migrations.map(\.name))
            #expect(try await migrator.migrate() == [])
            #expect(try await migrator.status().isUpToDate)
            let recorded = try await db.client.query("SELECT count(*) FROM schema_migrations")[0].decode(Int.self, at: 0)
            #expect(recorded == BatonSchema.migrations.count)
        }
    }

    @Test("an applied migration that was edited is refused, naming the file")
    func editedMigration() async throws {
        try await TestDatabase.withFresh { db async throws in
            var edited = BatonSchema.migrations
            edited[1].sql += "\n-- an innocent-looking edit\n"
            let error = await #expect(throws: MigrationError.self) {
                try await Migrator(client: db.client, migrations: edited).migrate()
            }
            #expect(error?.migration == edited[1].name)
            #expect(error?.description.contains("was changed after it was applied") == true)
        }
    }

    @Test("a database with a migration this program does not know is refused")
    func unknownMigration() async throws {
        try await TestDatabase.withFresh { db async throws in
            let older = Array(BatonSchema.migrations.dropLast())
            await #expect(throws: MigrationError.self) { try await Migrator(client: db.client, migrations: older).status() }
        }
    }

    @Test("two concurrent migrators end with the schema applied once")
    func concurrentMigrators() async throws {
        try await TestDatabase.withFresh(migrated: false, maximumConnections: 4) { db async throws in
            let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<2 {
                    group.addTask { try await Migrator(client: db.client, migrations: BatonSchema.migrations).migrate() }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(applied.map(\.count).sorted() == [0, BatonSchema.migrations.count])
            let recorded = try await db.client.query("SELECT count(*) FROM schema_migrations")[0].decode(Int.self, at: 0)
            #expect(recorded == BatonSchema.migrations.count)
        }
    }

    @Test("a migration that fails rolls back whole and is not recorded")
    func failingMigration() async throws {
        try await TestDatabase.withFresh { db async throws in
            let broken = BatonSchema.migrations + [Migration(name: "9999_broken.sql", sql: "CREATE TABLE half_done (id int); SELECT no_such_function();")]
            await #expect(throws: MigrationError.self) { try await Migrator(client: db.client, migrations: broken).migrate() }
            #expect(try await db.client.query("SELECT to_regclass('half_done') IS NULL")[0].decode(Bool.self, at: 0))
            #expect(try await Migrator(client: db.client, migrations: broken).status().pending == ["9999_broken.sql"])
        }
    }
}
