import ArgumentParser
import BatonSchema
import BatonServer
import EventStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending schema migrations.",
        discussion: """
            Each migration runs in its own transaction and is recorded with its checksum. \
            Refuses to run when an applied migration has changed. Safe to run from several \
            places at once.

            Examples:
              batond migrate
              batond migrate --status
            """)

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Only list applied and pending migrations.")
    var status = false

    func run() async throws {
        let logger = database.makeLogger()
        try await Database.with(database.database, maximumConnections: 1, logger: logger) { database in
            let migrator = Migrator(client: database.client, migrations: BatonSchema.migrations, logger: logger)
            if status {
                let current = try await migrator.status()
                for name in current.applied { print("applied  \(name)") }
                for name in current.pending { print("pending  \(name)") }
                return
            }
            let applied = try await migrator.migrate()
            if applied.isEmpty {
                print("up to date: \(BatonSchema.migrations.count) migrations applied")
            } else {
                for name in applied { print("applied  \(name)") }
            }
        }
    }
}
