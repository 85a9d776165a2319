import ArgumentParser
import BatonAgreementFiles
import BatonDomain
import BatonServer
import Foundation
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API, run the projections and the SLA watcher, until SIGTERM or SIGINT.",
        discussion: """
            Each setting comes from the first of: its flag, its environment variable, the
            settings file (--config or $BATON_CONFIG, YAML), the default.

              flag               environment             file key        default
              --host             BATON_HOST              host            127.0.0.1
              --port             BATON_PORT              port            8080
              --max-connections  BATON_MAX_CONNECTIONS   maxConnections  10
              --ticket-cache-mb  BATON_TICKET_CACHE_MB   ticketCacheMB   128
              --agreements       BATON_AGREEMENTS        agreements      (none)
              --no-migrate       BATON_MIGRATE=false     migrate         true
              --example-tokens   BATON_EXAMPLE_TOKENS    exampleTokens   false
              --database-url     DATABASE_URL            databaseURL     (embedded cluster)
              --data-dir         BATON_DATA_DIR          dataDir         .baton/postgres

            Examples:
              batond serve                       # embedded cluster in .baton/postgres, port 8080
              batond serve --agreements deploy/examples/agreements.yaml --example-tokens
              DATABASE_URL=postgresql://baton@db/baton BATON_PORT=9000 batond serve
              batond serve --config /etc/baton/batond.yaml
            """)

    @Option(name: .customLong("database-url"), help: ArgumentHelp("A libpq connection string or postgresql:// URI.", valueName: "url"))
    var databaseURL: String?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("The embedded cluster's directory.", valueName: "path"))
    var dataDirectory: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(help: ArgumentHelp("A YAML settings file.", valueName: "file"))
    var config: String?

    @Option(help: "The address to listen on.")
    var host: String?

    @Option(help: "The TCP port to listen on (0: any free port).")
    var port: Int?

    @Flag(name: .customLong("no-migrate"), help: "Do not apply pending migrations on start (then /readyz reports them).")
    var noMigrate = false

    @Option(name: .customLong("max-connections"), help: "The most database connections to open (at least 4).")
    var maximumConnections: Int?

    @Option(name: .customLong("ticket-cache-mb"), help: ArgumentHelp(
        "How much of open tickets' event streams to keep in memory, decoded, for the projection and leases, in MiB of their stored JSON; they take from half that to as much (0: none).",
        valueName: "MiB"))
    var ticketCacheMB: Int?

    @Option(help: ArgumentHelp("An agreements file to apply before serving (see `batond agreements apply`).", valueName: "file"))
    var agreements: String?

    @Flag(name: .customLong("example-tokens"), help: "Issue and print a token per role and per vendor, for trying Baton out; revokes those of the previous start.")
    var exampleTokens = false

    func run() async throws {
        var flags = ServeSettings.Flags()
        flags.host = host
        flags.port = port
        flags.maximumConnections = maximumConnections
        flags.ticketCacheMB = ticketCacheMB
        flags.agreements = agreements
        flags.noMigrate = noMigrate
        flags.exampleTokens = exampleTokens
        flags.databaseURL = databaseURL
        flags.dataDirectory = dataDirectory
        let environment = ProcessInfo.processInfo.environment
        let settings: ServeSettings
        do {
            settings = try ServeSettings.resolve(flags: flags, environment: environment, file: config ?? environment["BATON_CONFIG"].flatMap { $0.isEmpty ? nil : $0 })
        } catch {
            FileHandle.standardError.write(Data("batond serve: \(error)\n".utf8))
            throw ExitCode.validationFailure
        }
        // Read and validate the file before touching the database: a bad file stops here,
        // listing every problem.
        var agreementSet: AgreementSet?
        if let agreements = settings.agreements {
            do {
                agreementSet = try AgreementsFile.load(contentsOf: URL(fileURLWithPath: agreements))
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode.validationFailure
            }
        }
        var options = DatabaseOptions()
        options.logLevel = logLevel
        let logger = options.makeLogger()
        let metrics = Telemetry.bootstrapPrometheus()
        let configuration = ServerConfiguration(
            database: ServerConfiguration.database(url: settings.databaseURL, dataDirectory: settings.dataDirectory, environment: [:]),
            host: settings.host, port: settings.port, migrateOnStart: settings.migrate,
            maximumConnections: settings.maximumConnections, ticketCacheBytes: settings.ticketCacheMB << 20, agreements: agreementSet, exampleTokens: settings.exampleTokens)
        try await runServer(configuration: configuration, logger: logger, metrics: metrics) { [host = settings.host] port in
            logger.info("batond is serving", metadata: ["address": "http://\(host):\(port)"])
        }
    }
}
