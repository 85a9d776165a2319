import ArgumentParser
import BatonProjections
import BatonServer
import Foundation

struct ProjectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections",
        abstract: "Where the read models stand, and rebuilding one from the log.",
        subcommands: [Status.self, Rebuild.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each projection's position, and its lag behind the log in events and seconds.",
            discussion: """
                Example:
                  batond projections status
                """)

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let logger = database.makeLogger()
            let statuses = try await Database.with(database.database, maximumConnections: 2, logger: logger) { database in
                try await ProjectionAdmin(store: database.eventStore, projections: Projections.all(store: database.eventStore)).status()
            }
            printTable(
                [["PROJECTION", "POSITION", "HEAD", "LAG (EVENTS)", "LAG (SECONDS)", "UPDATED"]]
                    + statuses.map { s in
                        [s.name, "\(s.position)", "\(s.head)", "\(s.lagEvents)", String(format: "%.1f", s.lagSeconds),
                         s.updatedAt.map { $0.formatted(.iso8601) } ?? "never"]
                    })
        }
    }

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild a projection from position 0 into fresh tables, then swap them in.",
            discussion: """
                The live tables keep serving while the new ones are built; the swap, with the
                events appended meanwhile, is one transaction. Safe while batond runs.

                Example:
                  batond projections rebuild tickets
                """)

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The projection to rebuild (see `batond projections status`).")
        var name: String

        func run() async throws {
            let logger = database.makeLogger()
            let summary = try await Database.with(database.database, maximumConnections: 6, logger: logger) { database in
                try await ProjectionAdmin(store: database.eventStore, projections: Projections.all(store: database.eventStore)).rebuild(name)
            }
            print("rebuilt \(summary.name) from \(summary.events) events in \(String(format: "%.1f", summary.seconds)) s (\(String(format: "%.0f", summary.eventsPerSecond)) events/s)")
        }
    }
}
