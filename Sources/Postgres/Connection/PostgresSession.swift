import CLibPQ

/// A connection's statements run one after another on one thread of the client's thread
/// pool, each call blocking until the server answers: for a short run of dependent
/// statements on a busy server.
///
/// Each `query` on a ``PostgresConnection`` hops to the thread pool and back. Between two
/// statements the caller's task then waits its turn on Swift's cooperative pool, behind
/// whatever else is queued there (HTTP requests, projection batches); with several
/// statements in a row, those waits add up to most of a transaction's time under load. A
/// session makes one hop for the whole run. Keep what runs inside short and free of waits
/// other than the server's: it holds a thread-pool thread throughout.
///
/// Only valid inside ``PostgresConnection/withSession(_:)``: do not keep or share it.
public struct PostgresSession {
    let connection: PostgresConnection

    /// Runs `query` and returns its rows.
    public func query(_ query: PostgresQuery) throws -> PostgresRows {
        try connection.executeBlocking(query)
    }

    /// Runs `query` and returns how many rows it touched.
    @discardableResult
    public func execute(_ query: PostgresQuery) throws -> Int {
        try connection.executeBlocking(query).affectedRows
    }

    /// ``PostgresConnection/copy(into:_:)`` in the session.
    @discardableResult
    public func copy(into table: String, _ rows: PostgresCopyRows) throws -> Int {
        guard rows.count > 0 else { return 0 }
        return try connection.copyBlocking(PostgresConnection.copyStatement(into: table, rows), [rows.tuples, PostgresCopyRows.trailer]).affectedRows
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    /// The options are those of ``PostgresConnection/withTransaction(isolation:waitForDisk:genericPlans:_:)``.
    public func withTransaction<Result>(
        isolation: PostgresClient.IsolationLevel = .readCommitted,
        waitForDisk: Bool = true,
        genericPlans: Bool = false,
        _ body: (PostgresSession) throws -> Result
    ) throws -> Result {
        try connection.executeScriptBlocking(PostgresConnection.beginScript(isolation: isolation, waitForDisk: waitForDisk, genericPlans: genericPlans))
        let result: Result
        do {
            result = try body(self)
        } catch {
            try? connection.executeScriptBlocking("ROLLBACK")
            throw error
        }
        try connection.executeScriptBlocking("COMMIT")
        return result
    }
}

extension PostgresConnection {
    /// Runs `body` with a ``PostgresSession`` on one thread-pool thread, in one hop.
    public func withSession<Result: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> Result) async throws -> Result {
        try await exclusively {
            try await Self.runBlocking(on: threadPool) { try body(PostgresSession(connection: self)) }
        }
    }
}
