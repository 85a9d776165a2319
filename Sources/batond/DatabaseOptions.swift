import ArgumentParser
import BatonServer
import Foundation
import Logging

/// Where the database is, shared by every subcommand.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: ArgumentHelp(
        "A libpq connection string or postgresql:// URI. Default: $DATABASE_URL; when neither is set, the embedded cluster.",
        valueName: "url"))
    var databaseURL: String?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp(
        "The embedded cluster's directory. Default: $BATON_DATA_DIR, else .baton/postgres.", valueName: "path"))
    var dataDirectory: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    var database: ServerConfiguration.Database {
        ServerConfiguration.database(url: databaseURL, dataDirectory: dataDirectory)
    }

    func makeLogger() -> Logger {
        let level = logLevel
        LoggingSystem.bootstrap { label in LogLineHandler.standardError(label: label, level: level) }
        return Logger(label: "batond")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
