import ArgumentParser
import BatonImport
import BatonServer
import Foundation

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import the history of an exported incident log.",
        discussion: """
            The CSV has one row per update of an incident. Each incident becomes a ticket whose \
            history (opened, priority changes, reassignments, holds, resolved, reopened, closed) \
            is recorded as events with the original times. The mapping file says which column is \
            which and how states, priorities and groups map. Running the same import again adds \
            nothing.

            Example:
              batond import --csv ../shared/data/servicenow_incident_event_log_sample.csv \\
                            --mapping deploy/examples/servicenow-mapping.yaml
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("The exported incident log.", valueName: "file"))
    var csv: String

    @Option(help: ArgumentHelp("How its columns and values map to tickets.", valueName: "file"))
    var mapping: String

    func run() async throws {
        let mapping: ImportMapping
        do {
            mapping = try ImportMapping.load(contentsOf: URL(fileURLWithPath: self.mapping))
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode.validationFailure
        }
        let logger = database.makeLogger()
        let summary = try await Database.with(database.database, maximumConnections: 2, logger: logger) { database in
            try await database.migrateIfNeeded(logger: logger)
            let importer = TicketImporter(tickets: TicketStore(store: database.eventStore))
            return try await importer.importCSV(file: URL(fileURLWithPath: csv), mapping: mapping) { done, total in
                if done % 100 == 0 || done == total {
                    FileHandle.standardError.write(Data("  \(done)/\(total) incidents\n".utf8))
                }
            }
        }
        print(summary)
        if !summary.failures.isEmpty { throw ExitCode(1) }
    }
}
