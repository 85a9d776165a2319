/// An error from PostgreSQL or from talking to it.
///
/// `description` is safe to log and to show: it carries the error code, the SQLSTATE, the
/// server's primary message and the constraint name, never parameter values. The server's
/// detail and hint, which can quote row data, appear only in `debugDescription`.
public struct PostgresError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// The server could not be reached or refused the connection.
        public static let connectionFailed = Code(name: "connection failed")
        /// The connection broke while in use.
        public static let connectionLost = Code(name: "connection lost")
        /// The server answered a statement with an error; see ``PostgresError/sqlState``.
        public static let server = Code(name: "server error")
        /// No connection became free within the pool's lease timeout.
        public static let poolTimeout = Code(name: "connection pool timeout")
        /// The client was shut down.
        public static let clientClosed = Code(name: "client closed")
        /// The embedded cluster could not be set up or started.
        public static let embeddedCluster = Code(name: "embedded cluster")
        /// The statement is not usable (for example, it has too many parameters).
        public static let invalidQuery = Code(name: "invalid query")
    }

    public var code: Code
    /// The five-character SQLSTATE, for server errors.
    public var sqlState: String?
    /// The primary message.
    public var message: String
    public var detail: String?
    public var hint: String?
    /// The constraint whose violation caused the error, if any.
    public var constraint: String?

    public init(
        code: Code, sqlState: String? = nil, message: String, detail: String? = nil,
        hint: String? = nil, constraint: String? = nil
    ) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
    }

    public var description: String {
        var text = "\(code)"
        if let sqlState { text += " \(sqlState)" }
        text += ": \(message)"
        if let constraint { text += " (constraint \(constraint))" }
        return text
    }

    public var debugDescription: String {
        var text = description
        if let detail { text += "; detail: \(detail)" }
        if let hint { text += "; hint: \(hint)" }
        return text
    }

    /// Whether the error means the connection is unusable and the work may succeed on a
    /// new one: connection failures, and SQLSTATE classes 08 (connection exception) and
    /// 57P (operator intervention: shutdown, terminated backend).
    public var isConnectionFailure: Bool {
        if code == .connectionFailed || code == .connectionLost { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || sqlState.hasPrefix("57P")
    }

    /// Whether retrying the whole transaction may succeed: serialization failure (40001) or
    /// deadlock (40P01).
    public var isTransient: Bool {
        sqlState == SQLState.serializationFailure || sqlState == SQLState.deadlockDetected
    }
}

/// SQLSTATE codes Baton acts on.
public enum SQLState {
    public static let uniqueViolation = "23505"
    public static let serializationFailure = "40001"
    public static let deadlockDetected = "40P01"
    public static let undefinedTable = "42P01"
    public static let adminShutdown = "57P01"
    public static let lockNotAvailable = "55P03"
    public static let queryCanceled = "57014"
}
