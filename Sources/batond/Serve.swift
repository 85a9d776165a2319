import ArgumentParser
import BatonAgreementFiles
import BatonDomain
import BatonServer
import Foundation

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API until SIGTERM or SIGINT.",
        discussion: """
            Examples:
              batond serve                       # embedded cluster in .baton/postgres, port 8080
              batond serve --agreements deploy/examples/agreements.yaml
              DATABASE_URL=postgresql://baton@db/baton batond serve --port 9000
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The TCP port to listen on.")
    var port = 8080

    @Flag(name: .customLong("no-migrate"), help: "Do not apply pending migrations on start (then /readyz reports them).")
    var noMigrate = false

    @Option(name: .customLong("max-connections"), help: "The most database connections to open.")
    var maximumConnections = 10

    @Option(help: ArgumentHelp("An agreements file to apply before serving (see `batond agreements apply`).", valueName: "file"))
    var agreements: String?

    func run() async throws {
        // Read and validate the file before touching the database: a bad file stops here,
        // listing every problem.
        var agreementSet: AgreementSet?
        if let agreements {
            do {
                agreementSet = try AgreementsFile.load(contentsOf: URL(fileURLWithPath: agreements))
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode.validationFailure
            }
        }
        let logger = database.makeLogger()
        let metrics = Telemetry.bootstrapPrometheus()
        let configuration = ServerConfiguration(
            database: database.database, host: host, port: port, migrateOnStart: !noMigrate,
            maximumConnections: maximumConnections, agreements: agreementSet)
        try await runServer(configuration: configuration, logger: logger, metrics: metrics) { port in
            logger.info("batond is serving", metadata: ["address": "http://\(host):\(port)"])
        }
    }
}
