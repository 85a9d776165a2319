import Logging
import NIOPosix

/// A bounded pool of PostgreSQL connections, and the way into the database.
///
/// Connections are opened on demand up to ``Configuration/maximumConnections``; a caller
/// who finds them all busy waits up to ``Configuration/leaseTimeout`` and then gets a
/// ``PostgresError/Code/poolTimeout`` error. A connection that broke (for example because
/// the server restarted) is discarded and replaced on the next lease, so the client outlives
/// server restarts. Call ``shutdown()`` once when done.
public final class PostgresClient: Sendable {
    public struct Configuration: Sendable {
        /// A libpq conninfo string or `postgresql://` URI. Empty: libpq's defaults (`PG*`
        /// environment variables, `.pgpass`, service files).
        public var connectionString: String
        /// When set, the database to use instead of the one `connectionString` names.
        public var database: String?
        /// The most connections open at once. Default 10.
        public var maximumConnections: Int
        /// How long a lease waits for a free connection. Default 10 seconds.
        public var leaseTimeout: Duration
        /// Reported to the server as `application_name` unless the connection string sets one.
        public var applicationName: String

        public init(
            connectionString: String, database: String? = nil, maximumConnections: Int = 10,
            leaseTimeout: Duration = .seconds(10), applicationName: String = "baton"
        ) {
            precondition(maximumConnections > 0, "a pool needs at least one connection")
            self.connectionString = connectionString
            self.database = database
            self.maximumConnections = maximumConnections
            self.leaseTimeout = leaseTimeout
            self.applicationName = applicationName
        }
    }

    public let configuration: Configuration
    let logger: Logger
    private let threadPool: NIOThreadPool
    private let pool: ConnectionPool

    /// Creates the client. No connection is opened until one is needed.
    public init(configuration: Configuration, logger: Logger = Logger(label: "baton.postgres")) {
        self.configuration = configuration
        self.logger = logger
        // One thread per connection, so a blocking libpq call never waits for a thread.
        threadPool = NIOThreadPool(numberOfThreads: configuration.maximumConnections)
        threadPool.start()
        pool = ConnectionPool(configuration: configuration, threadPool: threadPool, logger: logger)
    }

    /// Lends a connection to `body` and takes it back afterwards. A connection left inside
    /// a transaction or broken is closed rather than reused.
    @discardableResult
    public func withConnection<Result>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await pool.lease()
        do {
            let result = try await body(connection)
            await pool.release(connection)
            return result
        } catch {
            await pool.release(connection)
            throw error
        }
    }

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws.
    ///
    /// - Parameters:
    ///   - waitForDisk: false commits without waiting for the commit to reach the disk
    ///     (`synchronous_commit = off`): a crash may lose the transaction, never part of it.
    ///     For writes that can be made again from elsewhere (read models).
    ///   - genericPlans: true runs the transaction's prepared statements on their generic
    ///     plans (`plan_cache_mode = force_generic_plan`), never planning them again. For hot
    ///     statements over arrays or key lookups, whose plan does not depend on the values:
    ///     PostgreSQL would otherwise plan them afresh on each run whenever a plan for the
    ///     values at hand looks cheaper than the generic one.
    @discardableResult
    public func withTransaction<Result>(
        isolation: IsolationLevel = .readCommitted,
        waitForDisk: Bool = true,
        genericPlans: Bool = false,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withConnection { connection in
            try await connection.withTransaction(isolation: isolation, waitForDisk: waitForDisk, genericPlans: genericPlans, body)
        }
    }

    /// Runs one query on a pooled connection.
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await withConnection { try await $0.query(query) }
    }

    /// Runs one statement on a pooled connection and returns how many rows it touched.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await withConnection { try await $0.execute(query) }
    }

    /// Retries `body` when PostgreSQL reports a serialization failure (40001) or a deadlock
    /// (40P01), with jittered exponential backoff, up to `maximumAttempts` times in all.
    /// `body` must be a whole transaction, safe to run again.
    public func withRetry<Result>(
        maximumAttempts: Int = 5, _ body: () async throws -> Result
    ) async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let error as PostgresError where error.isTransient && attempt < maximumAttempts {
                let backoff = Double(1 << min(attempt, 6)) * 5 * Double.random(in: 0.5...1.5)
                logger.debug("retrying transaction", metadata: ["sqlstate": "\(error.sqlState ?? "")", "attempt": "\(attempt)"])
                try await Task.sleep(for: .milliseconds(backoff))
                attempt += 1
            }
        }
    }

    /// The number of open connections and of idle ones, for metrics and tests.
    public var statistics: (open: Int, idle: Int) {
        get async { await pool.statistics }
    }

    /// Closes every connection and stops the client's threads. Leases after this fail with
    /// ``PostgresError/Code/clientClosed``.
    public func shutdown() async {
        await pool.close()
        try? await threadPool.shutdownGracefully()
    }

    /// Transaction isolation levels.
    public enum IsolationLevel: Sendable {
        case readCommitted, repeatableRead, serializable

        var sql: String {
            switch self {
            case .readCommitted: "READ COMMITTED"
            case .repeatableRead: "REPEATABLE READ"
            case .serializable: "SERIALIZABLE"
            }
        }
    }
}

extension PostgresConnection {
    /// Runs `body` in a transaction on this connection: commits when it returns, rolls back
    /// when it throws. See ``PostgresClient/withTransaction(isolation:waitForDisk:genericPlans:_:)``; this
    /// one is for a connection held for long (a leader's session), which must not wait for
    /// the pool.
    @discardableResult
    public func withTransaction<Result>(
        isolation: PostgresClient.IsolationLevel = .readCommitted,
        waitForDisk: Bool = true,
        genericPlans: Bool = false,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await executeScript(Self.beginScript(isolation: isolation, waitForDisk: waitForDisk, genericPlans: genericPlans))
        let result: Result
        do {
            result = try await body(self)
        } catch {
            // If the connection broke, the server rolls back on its own; a pool discards
            // the connection either way.
            try? await executeScript("ROLLBACK")
            throw error
        }
        try await executeScript("COMMIT")
        return result
    }

    /// What starts a transaction with these options, in one round trip.
    static func beginScript(isolation: PostgresClient.IsolationLevel, waitForDisk: Bool, genericPlans: Bool) -> String {
        beginStatements(isolation: isolation, waitForDisk: waitForDisk, genericPlans: genericPlans).joined(separator: "; ")
    }

    /// The statements that start a transaction with these options.
    static func beginStatements(isolation: PostgresClient.IsolationLevel, waitForDisk: Bool, genericPlans: Bool) -> [String] {
        ["BEGIN ISOLATION LEVEL \(isolation.sql)"]
            + (waitForDisk ? [] : ["SET LOCAL synchronous_commit = off"])
            + (genericPlans ? ["SET LOCAL plan_cache_mode = force_generic_plan"] : [])
    }
}
