import ArgumentParser
import BatonServer
import EventStore

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Walk the event log's hash chain and report whether it is intact.",
        discussion: """
            Prints "intact, N events, head hash H", or the first position whose hash does not \
            match, and then exits with status 1.

            Example:
              batond verify
            """)

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let logger = database.makeLogger()
        let report = try await Database.with(database.database, maximumConnections: 1, logger: logger) { database in
            try await database.eventStore.verify()
        }
        print(report)
        if !report.isIntact { throw ExitCode(1) }
    }
}
