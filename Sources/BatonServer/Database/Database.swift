import BatonSchema
import EventStore
import Logging
import Postgres

/// batond's open database: a connection pool, and the embedded cluster when batond runs one.
public struct Database: Sendable {
    public let client: PostgresClient
    /// The process's one event store: appends from the API, the watcher and the agreements
    /// share its group commit.
    public let eventStore: EventStore
    /// The cluster this process started, to stop on the way out; nil when using `DATABASE_URL`
    /// or a cluster that was already running.
    let startedCluster: EmbeddedPostgres?

    init(client: PostgresClient, startedCluster: EmbeddedPostgres?, logger: Logger) {
        self.client = client
        self.eventStore = EventStore(client: client, logger: logger)
        self.startedCluster = startedCluster
    }

    /// Opens the database the configuration names, starting the embedded cluster if needed.
    public static func open(
        _ database: ServerConfiguration.Database, maximumConnections: Int = 10, logger: Logger
    ) async throws -> Database {
        switch database {
        case .url(let url):
            return Database(
                client: PostgresClient(configuration: .init(connectionString: url, maximumConnections: maximumConnections, applicationName: "batond"), logger: logger),
                startedCluster: nil, logger: logger)
        case .embedded(let directory):
            let cluster = EmbeddedPostgres(configuration: .init(dataDirectory: directory), logger: logger)
            let outcome = try await cluster.start()
            if outcome == .alreadyRunning {
                logger.info("using the embedded PostgreSQL already running", metadata: ["directory": "\(directory.path)"])
            }
            return Database(
                client: PostgresClient(configuration: .init(connectionString: cluster.connectionString, maximumConnections: maximumConnections, applicationName: "batond"), logger: logger),
                startedCluster: outcome == .started ? cluster : nil, logger: logger)
        }
    }

    /// Opens the database, runs `body`, and closes it again (stopping a cluster it started),
    /// whether `body` succeeds or throws.
    public static func with<Result>(
        _ database: ServerConfiguration.Database, maximumConnections: Int = 10, logger: Logger,
        _ body: (Database) async throws -> Result
    ) async throws -> Result {
        let opened = try await open(database, maximumConnections: maximumConnections, logger: logger)
        do {
            let result = try await body(opened)
            try await opened.close(logger: logger)
            return result
        } catch {
            try? await opened.close(logger: logger)
            throw error
        }
    }

    /// Closes the pool and stops the cluster if this process started it.
    public func close(logger: Logger) async throws {
        await client.shutdown()
        if let startedCluster {
            logger.info("stopping embedded PostgreSQL")
            try await startedCluster.stop()
        }
    }


    /// Applies pending migrations, logging what it applied.
    public func migrateIfNeeded(logger: Logger) async throws {
        let applied = try await Migrator(client: client, migrations: BatonSchema.migrations, logger: logger).migrate()
        if !applied.isEmpty {
            logger.info("applied migrations", metadata: ["names": "\(applied.joined(separator: ", "))"])
        }
    }
}
