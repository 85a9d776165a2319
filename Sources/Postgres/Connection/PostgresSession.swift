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

    /// Runs `queries` in one round trip (libpq's pipeline mode): for statements that do not
    /// depend on each other's answers. Each runs only if every one before it succeeded; the
    /// first error is thrown. Returns the rows of each, in order. Outside a transaction they
    /// make one of their own (all or none). In a transaction of the session, its BEGIN goes
    /// with them when they are its first statements, and its COMMIT when they are sent with
    /// ``committing(with:)``.
    public func pipeline(_ queries: [PostgresQuery]) throws -> [PostgresRows] {
        guard !queries.isEmpty else { return [] }
        return try connection.pipelineBlocking(queries)
    }

    /// ``PostgresConnection/copy(into:_:)`` in the session.
    @discardableResult
    public func copy(into table: String, _ rows: PostgresCopyRows) throws -> Int {
        guard rows.count > 0 else { return 0 }
        return try connection.copyBlocking(PostgresConnection.copyStatement(into: table, rows), [rows.tuples, PostgresCopyRows.trailer]).affectedRows
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    /// The options are those of ``PostgresConnection/withTransaction(isolation:waitForDisk:genericPlans:_:)``.
    ///
    /// The BEGIN (with the options' settings) is not sent on its own: it goes with the body's
    /// first statement, in the same round trip, and a body that runs no statement sends
    /// nothing. Make the body's last statement with ``committing(with:)`` to send the COMMIT
    /// with it as well.
    public func withTransaction<Result>(
        isolation: PostgresClient.IsolationLevel = .readCommitted,
        waitForDisk: Bool = true,
        genericPlans: Bool = false,
        _ body: (PostgresSession) throws -> Result
    ) throws -> Result {
        precondition(connection.heldBack.isEmpty && PQtransactionStatus(connection.handle) == PQTRANS_IDLE, "a session transaction cannot nest")
        connection.heldBack = PostgresConnection.beginStatements(isolation: isolation, waitForDisk: waitForDisk, genericPlans: genericPlans)
        let result: Result
        do {
            result = try body(self)
        } catch {
            connection.heldBack = []
            connection.commitWithNext = false
            if PQtransactionStatus(connection.handle) != PQTRANS_IDLE { try? connection.executeScriptBlocking("ROLLBACK") }
            throw error
        }
        connection.heldBack = []
        // Still open unless the body committed with its last statement.
        if PQtransactionStatus(connection.handle) != PQTRANS_IDLE { try connection.executeScriptBlocking("COMMIT") }
        return result
    }

    /// Runs `body`, whose first statement (or ``pipeline(_:)``) is the last of the transaction
    /// (``withTransaction(isolation:waitForDisk:genericPlans:_:)``): the COMMIT is sent with
    /// it, in the same round trip, and the server commits as soon as that statement is done.
    /// When the statement fails, nothing is committed and its error is thrown. Statements
    /// after it run outside the transaction, each on its own.
    @discardableResult
    public func committing<Result>(with body: () throws -> Result) throws -> Result {
        connection.commitWithNext = true
        defer { connection.commitWithNext = false }
        return try body()
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
