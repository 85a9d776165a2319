/// A SQL statement whose values travel separately, as `$n` parameters.
///
/// Build one with string interpolation; every interpolated value becomes a parameter and is
/// never spliced into the SQL text:
///
/// ```swift
/// let rows = try await connection.query("SELECT * FROM events WHERE stream = \(stream)")
/// ```
///
/// Identifiers or fixed SQL fragments that cannot be parameters go through
/// `\(unescaped: …)`, the one explicit escape hatch; never pass user input to it.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL text, with `$1`, `$2`, … where the values go.
    public var sql: String
    /// The values, in parameter order.
    public var bindings: PostgresBindings

    /// A query from SQL text and bindings prepared by the caller.
    public init(unsafeSQL sql: String, bindings: PostgresBindings = PostgresBindings()) {
        self.sql = sql
        self.bindings = bindings
    }

    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(unsafeSQL: stringInterpolation.sql, bindings: stringInterpolation.bindings)
    }

    /// The SQL text only; parameter values are never part of a query's description.
    public var description: String { sql }

    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        @usableFromInline var sql: String
        @usableFromInline var bindings: PostgresBindings

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            bindings = PostgresBindings(capacity: interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// Binds `value` as the next parameter.
        @inlinable
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            bindings.append(value)
            sql += "$\(bindings.count)"
        }

        /// Binds `value`, or NULL when it is `nil`, as the next parameter.
        @inlinable
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            bindings.append(value)
            sql += "$\(bindings.count)"
        }

        /// Appends SQL text as it is. For identifiers and fixed fragments only.
        public mutating func appendInterpolation(unescaped fragment: String) {
            sql += fragment
        }
    }
}

/// The parameter values of a ``PostgresQuery``, in binary wire format.
public struct PostgresBindings: Sendable {
    @usableFromInline var types: [UInt32] = []
    /// Each parameter's encoded bytes; `nil` is SQL NULL.
    @usableFromInline var values: [[UInt8]?] = []

    public init() {}

    init(capacity: Int) {
        types.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    /// The number of parameters.
    public var count: Int { values.count }

    /// Appends a parameter value. Inlinable, so that each caller's encoder is specialised
    /// (an array of a million values is otherwise encoded through witness calls per element).
    @inlinable
    public mutating func append<Value: PostgresEncodable>(_ value: Value) {
        types.append(Value.postgresType.rawValue)
        if value.isPostgresNull {
            values.append(nil)
        } else {
            var buffer: [UInt8] = []
            value.encode(into: &buffer)
            values.append(buffer)
        }
    }
}
