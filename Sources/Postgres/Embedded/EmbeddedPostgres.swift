import Foundation
import Logging

/// A private PostgreSQL cluster that Baton starts by itself when no database is configured.
///
/// `start()` runs `initdb` into the data directory the first time, then `pg_ctl start`; the
/// server listens only on a Unix socket inside the data directory, never on TCP. Started
/// again on the same directory it reuses it, so data survives restarts. When the process
/// runs as root the cluster runs as the `postgres` user (PostgreSQL refuses root), through
/// `runuser`.
public struct EmbeddedPostgres: Sendable {
    public struct Configuration: Sendable {
        /// Where the cluster lives. Default `.baton/postgres`.
        public var dataDirectory: URL
        /// The database created for the caller. Default `baton`.
        public var database: String
        /// Trade durability for speed (`fsync=off`): for throw-away test clusters only.
        public var durable: Bool
        /// Upper bound on server connections. Default 100.
        public var maximumConnections: Int

        public init(
            dataDirectory: URL = URL(fileURLWithPath: ".baton/postgres"), database: String = "baton",
            durable: Bool = true, maximumConnections: Int = 100
        ) {
            self.dataDirectory = dataDirectory.standardizedFileURL
            self.database = database
            self.durable = durable
            self.maximumConnections = maximumConnections
        }
    }

    /// What `start()` found.
    public enum StartOutcome: Sendable {
        /// This call started the server; call `stop()` when done.
        case started
        /// A server was already running on the directory; leave it running.
        case alreadyRunning
    }

    public let configuration: Configuration
    private let logger: Logger
    /// The cluster's superuser.
    public static let superuser = "postgres"

    public init(configuration: Configuration, logger: Logger = Logger(label: "baton.postgres.embedded")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The libpq connection string for the cluster's database.
    public var connectionString: String { connectionString(database: configuration.database) }

    /// The libpq connection string for `database` on the cluster.
    public func connectionString(database: String) -> String {
        "host=\(quote(configuration.dataDirectory.path)) port=5432 user=\(Self.superuser) dbname=\(quote(database))"
    }

    /// Initialises the cluster if needed, starts it unless it is running, and creates the
    /// database if missing.
    @discardableResult
    public func start() async throws -> StartOutcome {
        let binaries = try Self.locateBinaries()
        let directory = configuration.dataDirectory
        let socketPath = directory.appendingPathComponent(".s.PGSQL.5432").path
        guard socketPath.utf8.count < 108 else {
            throw failure("the data directory path is too long for a Unix socket (\(socketPath.utf8.count) bytes, at most 107); choose a shorter data directory")
        }
        let runAs = try runAsUser()
        if !FileManager.default.fileExists(atPath: directory.appendingPathComponent("PG_VERSION").path) {
            try await initialise(binaries: binaries, runAs: runAs)
        }
        let outcome: StartOutcome
        if try await isRunning(binaries: binaries, runAs: runAs) {
            outcome = .alreadyRunning
        } else {
            logger.info("starting embedded PostgreSQL", metadata: ["directory": "\(directory.path)"])
            let result = try await run(binaries.pgCtl, [
                "-D", directory.path, "-l", directory.appendingPathComponent("postgres.log").path,
                "-o", Self.serverOptions, "-w", "-t", "120", "start",
            ], as: runAs)
            guard result.status == 0 else {
                throw failure("pg_ctl start failed (exit \(result.status)): \(result.output.trimmingWhitespace()); see \(directory.appendingPathComponent("postgres.log").path)")
            }
            outcome = .started
        }
        try await createDatabaseIfMissing(configuration.database)
        return outcome
    }

    /// Settings given at every start, so clusters made by earlier versions get them too.
    ///
    /// An event store writes all the time. With PostgreSQL's defaults (128MB of buffers, a
    /// checkpoint every 1GB of WAL) a busy cluster checkpoints every 20 seconds, and after
    /// each checkpoint the first change to every page writes the whole page to the WAL again;
    /// the log's random-key indexes touch pages all over. The WAL may grow to 4GB between
    /// checkpoints (`make clean-data` removes the cluster).
    ///
    /// Until checkpoints recycle old WAL segments (on a young cluster, and after any burst
    /// larger than the segments kept), each new 16MB segment is created by the commit that
    /// needs it, and by default zero-filled and flushed first: every writer stalled for about
    /// 50 ms every 16MB of WAL. With `wal_init_zero=off` a new segment is created sparse.
    /// The price: a full disk is found when WAL is written into the segment (PostgreSQL
    /// stops) rather than when the segment is made.
    ///
    /// A backend that evicts a dirty buffer leaves the page in the kernel's cache; by default
    /// nothing asks the kernel to write it, and after a busy spell it writes hundreds of MB at
    /// once, while commits wait for their WAL flush behind it. `backend_flush_after` has the
    /// kernel start writing every 512kB, as the background writer already does.
    static let serverOptions = "-c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=15min"
        + " -c wal_init_zero=off -c backend_flush_after=512kB"

    /// Stops the server (fast shutdown: open transactions are rolled back).
    public func stop() async throws {
        let binaries = try Self.locateBinaries()
        let result = try await run(binaries.pgCtl, ["-D", configuration.dataDirectory.path, "-m", "fast", "-w", "stop"], as: try runAsUser())
        guard result.status == 0 else {
            throw failure("pg_ctl stop failed (exit \(result.status)): \(result.output.trimmingWhitespace())")
        }
    }

    /// Restarts the server; clients see their connections drop.
    public func restart() async throws {
        let binaries = try Self.locateBinaries()
        let result = try await run(binaries.pgCtl, [
            "-D", configuration.dataDirectory.path, "-l", configuration.dataDirectory.appendingPathComponent("postgres.log").path,
            "-o", Self.serverOptions, "-m", "fast", "-w", "restart",
        ], as: try runAsUser())
        guard result.status == 0 else {
            throw failure("pg_ctl restart failed (exit \(result.status)): \(result.output.trimmingWhitespace())")
        }
    }

    /// Creates `database` on the cluster unless it exists.
    public func createDatabaseIfMissing(_ database: String) async throws {
        let client = PostgresClient(configuration: .init(connectionString: connectionString(database: "postgres"), maximumConnections: 1))
        do {
            let exists = try await client.query("SELECT 1 FROM pg_database WHERE datname = \(database)")
            if exists.isEmpty {
                do {
                    try await client.execute("CREATE DATABASE \(unescaped: quoteIdentifier(database))")
                } catch let error as PostgresError where error.sqlState == "42P04" {
                    // Created concurrently by someone else: fine.
                }
            }
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    // MARK: - Binaries

    struct Binaries {
        var initdb: String
        var pgCtl: String
    }

    /// Finds `initdb` and `pg_ctl` on PATH, else under `/usr/lib/postgresql/*/bin` (newest
    /// version first).
    static func locateBinaries() throws -> Binaries {
        let fileManager = FileManager.default
        var candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        if let versions = try? fileManager.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            let sorted = versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
            candidates += sorted.map { "/usr/lib/postgresql/\($0)/bin" }
        }
        for directory in candidates {
            let initdb = directory + "/initdb"
            let pgCtl = directory + "/pg_ctl"
            if fileManager.isExecutableFile(atPath: initdb) && fileManager.isExecutableFile(atPath: pgCtl) {
                return Binaries(initdb: initdb, pgCtl: pgCtl)
            }
        }
        throw PostgresError(
            code: .embeddedCluster,
            message: "PostgreSQL server programs (initdb, pg_ctl) were not found on PATH or in /usr/lib/postgresql/*/bin; install them with `apt-get install postgresql`, or set DATABASE_URL to use an existing server")
    }

    /// Whether the PostgreSQL server programs are installed.
    public static var isAvailable: Bool { (try? locateBinaries()) != nil }

    // MARK: - Steps

    private func initialise(binaries: Binaries, runAs: String?) async throws {
        let fileManager = FileManager.default
        let directory = configuration.dataDirectory
        // Parents stay traversable (the server may run as another user); the cluster's own
        // directory is private, as initdb requires.
        try fileManager.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        if let runAs {
            try chown(directory.path, to: runAs)
        }
        logger.info("initialising embedded PostgreSQL cluster", metadata: ["directory": "\(directory.path)"])
        let result = try await run(binaries.initdb, [
            "-D", directory.path, "-U", Self.superuser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-instructions",
        ], as: runAs)
        guard result.status == 0 else {
            throw failure("initdb failed (exit \(result.status)): \(result.output.trimmingWhitespace())")
        }
        var settings = """

            # Baton embedded cluster: Unix socket in the data directory only, no TCP.
            listen_addresses = ''
            unix_socket_directories = '\(directory.path.replacingOccurrences(of: "'", with: "''"))'
            port = 5432
            max_connections = \(configuration.maximumConnections)

            """
        if !configuration.durable {
            settings += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        }
        let conf = directory.appendingPathComponent("postgresql.conf")
        let handle = try FileHandle(forWritingTo: conf)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(settings.utf8))
        try handle.close()
    }

    private func isRunning(binaries: Binaries, runAs: String?) async throws -> Bool {
        try await run(binaries.pgCtl, ["-D", configuration.dataDirectory.path, "status"], as: runAs).status == 0
    }

    /// The user to run the server as: `postgres` when we are root, else nobody else.
    private func runAsUser() throws -> String? {
        guard getuid() == 0 else { return nil }
        guard getpwnam(Self.superuser) != nil else {
            throw failure("running as root, the embedded cluster must run as the 'postgres' user, which does not exist; install PostgreSQL with `apt-get install postgresql` (it creates the user) or set DATABASE_URL")
        }
        return Self.superuser
    }

    private func chown(_ path: String, to user: String) throws {
        guard let entry = getpwnam(user) else { throw failure("user \(user) does not exist") }
        guard Foundation.chown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
            throw failure("could not give \(path) to user \(user) (errno \(errno))")
        }
    }

    private func failure(_ message: String) -> PostgresError {
        PostgresError(code: .embeddedCluster, message: message)
    }

    private func quote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    private func quoteIdentifier(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Runs a program (as `user` through runuser when given) and collects its output.
    private func run(_ executable: String, _ arguments: [String], as user: String?) async throws -> (status: Int32, output: String) {
        let (program, argv) = Self.command(executable, arguments, as: user)
        return await (try ChildProcess(program, argv)).wait()
    }

    private static func command(_ executable: String, _ arguments: [String], as user: String?) -> (String, [String]) {
        guard let user else { return (executable, arguments) }
        return (runuserPath, ["-u", user, "--", executable] + arguments)
    }

    /// Stops the server at once (immediate mode), blocking the calling thread: for exit
    /// handlers, where nothing asynchronous can run. Errors are ignored.
    public func stopImmediately() {
        guard let binaries = try? Self.locateBinaries() else { return }
        let user: String? = getuid() == 0 ? Self.superuser : nil
        let (program, argv) = Self.command(binaries.pgCtl, ["-D", configuration.dataDirectory.path, "-m", "immediate", "-w", "stop"], as: user)
        _ = try? ChildProcess(program, argv).waitBlocking()
    }

    private static var runuserPath: String {
        ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "runuser"
    }
}
