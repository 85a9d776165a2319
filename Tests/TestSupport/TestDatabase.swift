import BatonSchema
import EventStore
import Foundation
import Postgres
import Synchronization

/// Databases for tests: each test gets a database of its own on one server per test process.
///
/// With `DATABASE_URL` set, databases are created on that server (the role needs CREATEDB).
/// Otherwise one embedded cluster is started in a temporary directory on first use and
/// stopped, and its directory removed, when the test process exits.
public enum TestDatabase {
    /// A fresh database: its name, a connection string for it, and a client.
    public struct Fresh: Sendable {
        public let name: String
        public let connectionString: String
        public let client: PostgresClient

        public var eventStore: EventStore { EventStore(client: client) }
    }

    /// Creates a database, migrated to Baton's schema unless `migrated` is false, runs `body`
    /// with a client for it, and shuts the client down afterwards. The database has the
    /// server's default locale (C on the embedded cluster), or `locale` (as `C.UTF-8`).
    public static func withFresh<Result>(
        migrated: Bool = true, maximumConnections: Int = 4, leaseTimeout: Duration = .seconds(60), locale: String? = nil,
        _ body: (Fresh) async throws -> Result
    ) async throws -> Result {
        let server = try await TestServer.shared()
        let name = "baton_test_\(UUID().uuidString.prefix(8).lowercased())_\(counter.add(1, ordering: .relaxed).newValue)"
        let options = locale.map { " TEMPLATE template0 LOCALE '\($0)'" } ?? ""
        try await server.admin.execute("CREATE DATABASE \(unescaped: name)\(unescaped: options)")
        let client = PostgresClient(configuration: .init(
            connectionString: server.connectionString, database: name,
            maximumConnections: maximumConnections, leaseTimeout: leaseTimeout))
        let fresh = Fresh(name: name, connectionString: server.connectionString(database: name), client: client)
        do {
            if migrated {
                try await Migrator(client: client, migrations: BatonSchema.migrations).migrate()
            }
            let result = try await body(fresh)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// A client on the server's maintenance database, as a superuser (for tests that must
    /// go behind the application's back, e.g. to tamper with events).
    public static func adminClient() async throws -> PostgresClient {
        try await TestServer.shared().admin
    }

    private static let counter = Atomic<Int>(0)

    /// A new private cluster in its own temporary directory, for tests that stop or restart
    /// the server. Removed when the test process exits.
    public static func privateCluster() async throws -> EmbeddedPostgres {
        let cluster = EmbeddedPostgres(configuration: .init(
            dataDirectory: try TestServer.makeTemporaryDirectory().appendingPathComponent("pg"), durable: false))
        try await cluster.start()
        TestServer.registerForCleanup(cluster.configuration.dataDirectory)
        return cluster
    }
}

/// The server the test process uses.
final class TestServer: Sendable {
    let connectionString: String
    let embeddedDirectory: URL?
    let admin: PostgresClient

    private init(connectionString: String, embeddedDirectory: URL?) {
        self.connectionString = connectionString
        self.embeddedDirectory = embeddedDirectory
        // Every test creates its database through this pool, dozens at once when the suites
        // start together on a busy machine: wait as long as that takes.
        admin = PostgresClient(configuration: .init(connectionString: connectionString, maximumConnections: 2, leaseTimeout: .seconds(600)))
    }

    func connectionString(database: String) -> String {
        if let embeddedDirectory {
            return EmbeddedPostgres(configuration: .init(dataDirectory: embeddedDirectory)).connectionString(database: database)
        }
        // libpq: a later keyword overrides the same keyword earlier in a conninfo string; a
        // URI cannot be extended that way, so tests against a URI use the client's
        // `database` override instead of this string.
        return connectionString.contains("://") ? connectionString : "\(connectionString) dbname=\(database)"
    }

    /// Starts the server once, however many tests ask at the same moment.
    private actor Registry {
        private var starting: Task<TestServer, any Error>?

        func server() async throws -> TestServer {
            if let starting { return try await starting.value }
            let task = Task { try await TestServer.start() }
            starting = task
            return try await task.value
        }
    }

    private static let registry = Registry()

    static func shared() async throws -> TestServer {
        try await registry.server()
    }

    fileprivate static func start() async throws -> TestServer {
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
            return TestServer(connectionString: url, embeddedDirectory: nil)
        }
        let directory = try makeTemporaryDirectory().appendingPathComponent("pg")
        let cluster = EmbeddedPostgres(configuration: .init(
            dataDirectory: directory, database: "postgres", durable: false, maximumConnections: 400))
        try await cluster.start()
        registerForCleanup(directory)
        return TestServer(connectionString: cluster.connectionString(database: "postgres"), embeddedDirectory: directory)
    }

    /// A directory under /tmp that the `postgres` user can traverse when we run as root.
    static func makeTemporaryDirectory() throws -> URL {
        let url = URL(fileURLWithPath: "/tmp/baton-test-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        return url
    }

    private static let clusters = Mutex<[URL]>([])

    /// Stops the cluster at `directory` and deletes it when the process exits.
    static func registerForCleanup(_ directory: URL) {
        let first = clusters.withLock { list in
            list.append(directory)
            return list.count == 1
        }
        if first {
            atexit {
                for directory in TestServer.clusters.withLock({ $0 }) {
                    TestServer.stopSynchronously(directory)
                }
            }
        }
    }

    private static func stopSynchronously(_ directory: URL) {
        EmbeddedPostgres(configuration: .init(dataDirectory: directory)).stopImmediately()
        try? FileManager.default.removeItem(at: directory.deletingLastPathComponent())
    }
}
