import CLibPQ
import Foundation
import Logging
import NIOPosix
import Synchronization

/// One libpq connection.
///
/// Every libpq call that can block runs on the owning client's `NIOThreadPool`, never on
/// Swift's cooperative pool. A connection has one user at a time: take it from a
/// ``PostgresClient`` with `withConnection` or `withTransaction`, and do not keep it past
/// the closure.
///
/// `@unchecked Sendable`: the handle is only touched by the single leaseholder, one call at a
/// time (each call is awaited before the next starts), so libpq never sees concurrent use;
/// `closed` is guarded by a mutex because `close()` and `deinit` may race with a pool check.
public final class PostgresConnection: @unchecked Sendable {
    let handle: OpaquePointer
    let threadPool: NIOThreadPool
    private let closed = Mutex(false)
    /// Set while a call is in flight: a second, concurrent call is refused, not let loose on
    /// the same PGconn from another thread.
    private let busy = Mutex(false)
    /// Statements prepared on this connection, by SQL text and parameter types: each is
    /// parsed and analysed by the server once, not on every run. Touched only by the
    /// connection's one user, inside `executeBlocking`.
    private var prepared: [PreparedKey: String] = [:]
    private var statementsPrepared = 0
    /// What a ``PostgresSession`` transaction holds back to send with its first statement, in
    /// the same round trip: its BEGIN and its settings. Touched only by the connection's one
    /// user.
    var heldBack: [String] = []
    /// Whether the next statement is its transaction's last, to be sent with COMMIT in the
    /// same round trip (see ``PostgresSession/committing(with:)``).
    var commitWithNext = false
    /// Beyond this many, statements run unprepared (SQL built from varying parts must not
    /// fill the server's memory).
    static let preparedLimit = 256

    struct PreparedKey: Hashable {
        var sql: String
        var types: [UInt32]
    }

    private init(handle: OpaquePointer, threadPool: NIOThreadPool) {
        self.handle = handle
        self.threadPool = threadPool
    }

    deinit {
        let wasClosed = closed.withLock { $0 }
        if !wasClosed { PQfinish(handle) }
    }

    /// Opens a connection.
    ///
    /// - Parameters:
    ///   - connectionString: a libpq conninfo string or `postgresql://` URI; empty means
    ///     libpq's defaults (`PG*` environment variables, `.pgpass`, service files).
    ///   - database: when set, overrides the database named in `connectionString`.
    static func connect(
        connectionString: String, database: String?, applicationName: String,
        threadPool: NIOThreadPool
    ) async throws -> PostgresConnection {
        let handle = try await runBlocking(on: threadPool) {
            try connectBlocking(connectionString: connectionString, database: database, applicationName: applicationName)
        }
        return PostgresConnection(handle: handle.pointer, threadPool: threadPool)
    }

    /// Runs `query` and returns its rows.
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await exclusively { try await Self.runBlocking(on: threadPool) { try self.executeBlocking(query) } }
    }

    /// Runs `query` and returns how many rows it touched.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await self.query(query).affectedRows
    }

    /// Runs SQL text that may hold several statements, with no parameters (the simple query
    /// protocol). For migrations and fixed administrative statements only.
    public func executeScript(_ sql: String) async throws {
        _ = try await exclusively {
            try await Self.runBlocking(on: threadPool) { try self.executeScriptBlocking(sql) }
        }
    }

    /// Inserts `rows` into `table` with one binary `COPY … FROM STDIN`, and returns how many
    /// rows went in. `table` (one unqualified name, on the search path) and the column names
    /// are identifiers from code, never user input. A failure (a malformed value, a violated
    /// constraint) fails the whole COPY, and nothing is inserted; see ``PostgresCopyRows``
    /// for what binary COPY does not check.
    @discardableResult
    public func copy(into table: String, _ rows: PostgresCopyRows) async throws -> Int {
        guard rows.count > 0 else { return 0 }
        let sql = Self.copyStatement(into: table, rows)
        let tuples = rows.tuples
        return try await exclusively {
            try await Self.runBlocking(on: threadPool) { try self.copyBlocking(sql, [tuples, PostgresCopyRows.trailer]).affectedRows }
        }
    }

    static func copyStatement(into table: String, _ rows: PostgresCopyRows) -> String {
        "COPY \(quoted(table)) (\(rows.columns.map(quoted).joined(separator: ", "))) FROM STDIN (FORMAT binary)"
    }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    func exclusively<T>(_ body: () async throws -> T) async throws -> T {
        let wasBusy = busy.withLock { busy in
            defer { busy = true }
            return busy
        }
        guard !wasBusy else {
            throw PostgresError(
                code: .invalidQuery,
                message: "one connection was used by two tasks at once; give each task its own connection from the client")
        }
        defer { busy.withLock { $0 = false } }
        return try await body()
    }

    /// The backend's process id (for `pg_terminate_backend` and log correlation).
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// Whether the connection can serve another user: connected, outside any transaction, and
    /// with no end-of-file or error waiting on its socket (a server restart shows up here).
    ///
    /// Runs on the caller's thread: nothing here waits. `poll` is given no time, and libpq
    /// keeps its socket non-blocking, so `PQconsumeInput` reads only what has arrived.
    func checkUsable() -> Bool {
        guard !isClosed, isIdleOutsideTransaction else { return false }
        // Whatever is waiting on an idle connection's socket is news: a FATAL message and
        // end-of-file when the server restarted or killed the backend.
        for _ in 0..<4 {
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { break }
            guard PQconsumeInput(handle) != 0 else { return false }
            _ = PQisBusy(handle)  // parses what was read
            guard PQstatus(handle) == CONNECTION_OK else { return false }
        }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Whether the connection is idle outside a transaction, as libpq last saw it (and not
    /// left in pipeline mode by a pipeline that could not be finished).
    var isIdleOutsideTransaction: Bool {
        PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE
            && PQpipelineStatus(handle) == PQ_PIPELINE_OFF
    }

    var isClosed: Bool { closed.withLock { $0 } }

    /// Closes the connection. Safe to call more than once.
    func close() async {
        let shouldClose = closed.withLock { wasClosed in
            defer { wasClosed = true }
            return !wasClosed
        }
        guard shouldClose else { return }
        let handle = Handle(pointer: handle)
        do {
            try await Self.runBlocking(on: threadPool) { PQfinish(handle.pointer) }
        } catch {
            PQfinish(handle.pointer)  // the thread pool is gone; finish here rather than leak
        }
    }

    // MARK: - Blocking internals (thread pool only)

    /// Wraps a libpq pointer to carry it across the hop to the thread pool.
    struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    static func runBlocking<T: Sendable>(
        on threadPool: NIOThreadPool, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        do {
            return try await threadPool.runIfActive(body)
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw PostgresError(code: .clientClosed, message: "the PostgreSQL client has been shut down")
        }
    }

    static func connectBlocking(
        connectionString: String, database: String?, applicationName: String
    ) throws -> Handle {
        // With expand_dbname, the first "dbname" may be a whole conninfo string or URI; a
        // keyword before it is a default it can override, one after it overrides it.
        var keywords = ["connect_timeout", "dbname", "fallback_application_name", "client_encoding"]
        var values = ["10", connectionString, applicationName, "UTF8"]
        if let database {
            keywords.append("dbname")
            values.append(database)
        }
        let pointer = withArrayOfCStrings(keywords) { keywordPointers in
            withArrayOfCStrings(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let pointer else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(pointer) == CONNECTION_OK else {
            let message = errorMessage(pointer)
            PQfinish(pointer)
            throw PostgresError(code: .connectionFailed, message: message)
        }
        // Server notices (e.g. "relation already exists, skipping") are not errors; libpq's
        // default prints them to stderr.
        PQsetNoticeProcessor(pointer, { _, _ in }, nil)
        return Handle(pointer: pointer)
    }

    func executeBlocking(_ query: PostgresQuery) throws -> PostgresRows {
        // With what its transaction held back (its BEGIN, its COMMIT), in one round trip.
        if !heldBack.isEmpty || commitWithNext { return try pipelineBlocking([query])[0] }
        let name = try preparedName(for: query)
        func run(_ statement: String?) -> OpaquePointer? {
            Self.withValues(of: query) { count, values, lengths, formats in
                if let statement {
                    return PQexecPrepared(handle, statement, count, values, lengths, formats, 1)
                }
                return PQexecParams(handle, query.sql, count, query.bindings.types, values, lengths, formats, 1)
            }
        }
        do {
            return try check(run(name))
        } catch let error as PostgresError where name != nil && Self.isStalePlan(error) {
            // The statement's tables changed shape under it ("cached plan must not change
            // result type"), or the session forgot it: prepare it afresh next time, and run
            // it unprepared now unless a transaction already failed with the error.
            forgetPrepared(query)
            guard PQtransactionStatus(handle) == PQTRANS_IDLE else { throw error }
            if let stale = PQexec(handle, "DEALLOCATE \(name!)") { PQclear(stale) }
            return try check(run(nil))
        }
    }

    /// The name `query` is prepared under on this connection, preparing it first if it is
    /// new (nil beyond ``preparedLimit``: then it runs unprepared).
    private func preparedName(for query: PostgresQuery) throws -> String? {
        let bindings = query.bindings
        guard bindings.count <= Int(UInt16.max) else {
            throw PostgresError(code: .invalidQuery, message: "a statement takes at most 65535 parameters, got \(bindings.count)")
        }
        let key = PreparedKey(sql: query.sql, types: bindings.types)
        if let name = prepared[key] { return name }
        guard prepared.count < Self.preparedLimit else { return nil }
        let name = "baton_\(statementsPrepared)"
        _ = try check(PQprepare(handle, name, query.sql, Int32(bindings.count), bindings.types))
        statementsPrepared += 1
        prepared[key] = name
        return name
    }

    private func forgetPrepared(_ query: PostgresQuery) {
        prepared[PreparedKey(sql: query.sql, types: query.bindings.types)] = nil
    }

    private static func isStalePlan(_ error: PostgresError) -> Bool {
        error.sqlState == "0A000" || error.sqlState == "26000"
    }

    /// Calls `body` with the query's values as libpq takes them: their count, a pointer to
    /// each (nil for NULL) into one buffer, their lengths and their formats (all binary).
    private static func withValues<Result>(
        of query: PostgresQuery,
        _ body: (Int32, [UnsafePointer<CChar>?], [Int32], [Int32]) -> Result
    ) -> Result {
        let bindings = query.bindings
        let count = bindings.count
        var lengths = [Int32](repeating: 0, count: count)
        let formats = [Int32](repeating: 1, count: count)
        var offsets = [Int](repeating: -1, count: count)
        // One buffer for all values. It never starts empty, so a non-NULL empty value still
        // gets a non-nil pointer (libpq reads a nil pointer as NULL).
        var storage: [UInt8] = [0]
        storage.reserveCapacity(bindings.values.reduce(1) { $0 + ($1?.count ?? 0) })
        for (index, value) in bindings.values.enumerated() {
            guard let value else { continue }
            offsets[index] = storage.count
            lengths[index] = Int32(value.count)
            storage.append(contentsOf: value)
        }
        return storage.withUnsafeBytes { buffer in
            let base = buffer.baseAddress!
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset < 0 ? nil : base.advanced(by: offset).assumingMemoryBound(to: CChar.self)
            }
            return body(Int32(count), values, lengths, formats)
        }
    }

    /// Sends `queries` together (libpq's pipeline mode), with what their transaction held
    /// back (its BEGIN before them, its COMMIT after them when they are its last), and waits
    /// once for all their answers: one round trip instead of one per statement. Each
    /// statement runs only if every one before it succeeded (the server skips the rest after
    /// an error); the first error is thrown. Returns the rows of each of `queries`.
    func pipelineBlocking(_ queries: [PostgresQuery]) throws -> [PostgresRows] {
        // The held-back statements are fixed SQL (BEGIN, SET LOCAL, COMMIT), sent unprepared.
        // They stay held back until the pipeline is on its way: a statement that fails to
        // prepare sends nothing, and the transaction still begins with the next one.
        let before = heldBack.map { PostgresQuery(unsafeSQL: $0) }
        let after: [PostgresQuery] = commitWithNext ? ["COMMIT"] : []
        let names = try [String?](repeating: nil, count: before.count) + queries.map(preparedName(for:)) + after.map { _ in nil }
        let all = before + queries + after
        guard PQenterPipelineMode(handle) == 1 else { throw lostOrFailed() }
        for (query, name) in zip(all, names) {
            let sent = Self.withValues(of: query) { count, values, lengths, formats in
                if let name {
                    return PQsendQueryPrepared(handle, name, count, values, lengths, formats, 1)
                }
                return PQsendQueryParams(handle, query.sql, count, query.bindings.types, values, lengths, formats, 1)
            }
            // No Sync after a part of the pipeline: the server would commit that part. The
            // connection stays in pipeline mode, and the pool discards it.
            guard sent == 1 else { throw lostOrFailed() }
        }
        guard PQpipelineSync(handle) == 1 else { throw lostOrFailed() }
        heldBack = []
        commitWithNext = false
        // Each statement's result, then the sync's; nothing may be left unread when the
        // connection leaves pipeline mode.
        var outcomes: [Result<PostgresRows, any Error>] = []
        for _ in all {
            var outcome: Result<PostgresRows, any Error>?
            while let result = PQgetResult(handle) {
                if outcome == nil { outcome = Result { try check(result) } } else { PQclear(result) }
            }
            outcomes.append(outcome ?? .failure(lostOrFailed()))
        }
        var synced = false
        while !synced, let result = PQgetResult(handle) {
            synced = PQresultStatus(result) == PGRES_PIPELINE_SYNC
            PQclear(result)
        }
        // Left in pipeline mode only when something went wrong on the way: then the pool
        // discards the connection (``isIdleOutsideTransaction``).
        guard synced, PQexitPipelineMode(handle) == 1 else { throw lostOrFailed() }
        // An error's own result comes first; the statements it stopped answer "aborted".
        for (index, outcome) in outcomes.enumerated() {
            guard case .failure(let error) = outcome else { continue }
            if let error = error as? PostgresError, Self.isStalePlan(error), let name = names[index] {
                forgetPrepared(all[index])
                if PQtransactionStatus(handle) == PQTRANS_IDLE, let stale = PQexec(handle, "DEALLOCATE \(name)") { PQclear(stale) }
            }
            throw error
        }
        return try outcomes[before.count..<(before.count + queries.count)].map { try $0.get() }
    }

    private func lostOrFailed() -> PostgresError {
        PostgresError(code: PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost, message: Self.errorMessage(handle))
    }

    func executeScriptBlocking(_ sql: String) throws {
        try sendHeldBack()
        _ = try check(PQexec(handle, sql))
    }

    /// Sends what a transaction held back, on its own: before a statement that cannot go in a
    /// pipeline (a script, a COPY).
    private func sendHeldBack() throws {
        guard !heldBack.isEmpty else { return }
        let statements = heldBack
        heldBack = []
        _ = try check(PQexec(handle, statements.joined(separator: "; ")))
    }

    func copyBlocking(_ sql: String, _ parts: [[UInt8]]) throws -> PostgresRows {
        precondition(!commitWithNext, "a COPY cannot carry its transaction's COMMIT")
        try sendHeldBack()
        guard let started = PQexec(handle, sql) else {
            throw PostgresError(code: PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost, message: Self.errorMessage(handle))
        }
        guard PQresultStatus(started) == PGRES_COPY_IN else {
            _ = try check(started)  // throws the server's error
            throw PostgresError(code: .invalidQuery, message: "the statement is not a COPY FROM STDIN")
        }
        PQclear(started)
        // Sent in slices, so that libpq never holds a second copy of a large stream.
        var sendError: String?
        for part in parts where sendError == nil {
            part.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let length = Swift.min(1 << 20, buffer.count - offset)
                    let sent = PQputCopyData(handle, buffer.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self), Int32(length))
                    guard sent == 1 else {
                        sendError = Self.errorMessage(handle)
                        return
                    }
                    offset += length
                }
            }
        }
        guard PQputCopyEnd(handle, sendError) == 1 else {
            throw PostgresError(
                code: PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost, message: Self.errorMessage(handle))
        }
        // The COPY's outcome, then whatever else the server sent until it is ready again.
        var outcome: Result<PostgresRows, any Error>?
        while let result = PQgetResult(handle) {
            if outcome == nil { outcome = Result { try check(result) } } else { PQclear(result) }
        }
        guard let outcome else {
            throw PostgresError(code: .connectionLost, message: Self.errorMessage(handle))
        }
        return try outcome.get()
    }

    /// Turns a libpq result into rows, or into an error (clearing the result either way
    /// exactly once: rows own it from here on).
    private func check(_ result: OpaquePointer?) throws -> PostgresRows {
        guard let result else {
            throw PostgresError(
                code: PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost,
                message: Self.errorMessage(handle))
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PostgresRows(result: PostgresResult(pointer: result))
        default:
            var error = Self.serverError(result)
            PQclear(result)
            if PQstatus(handle) != CONNECTION_OK && error.sqlState == nil {
                error.code = .connectionLost
            }
            throw error
        }
    }

    private static func serverError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field("C")
        let message = field("M") ?? String(cString: PQresultErrorMessage(result)).trimmingWhitespace()
        return PostgresError(
            code: .server, sqlState: sqlState, message: message, detail: field("D"),
            hint: field("H"), constraint: field("n"))
    }

    static func errorMessage(_ connection: OpaquePointer) -> String {
        String(cString: PQerrorMessage(connection)).trimmingWhitespace()
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        return String(scalars)
    }
}

/// Calls `body` with a NULL-terminated C array of C strings, valid only inside `body`.
func withArrayOfCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicated = strings.map { strdup($0) }
    defer { duplicated.forEach { free($0) } }
    let pointers = duplicated.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
