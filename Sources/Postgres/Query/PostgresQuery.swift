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

    /// Appends `other`'s SQL text and parameters, its `$n` renumbered to follow this
    /// query's: for statements put together from the parts that apply, such as a list's
    /// filters. Every `$` followed by digits in `other`'s text is taken for a parameter, as
    /// interpolation writes them; a fragment must not hold one in any other sense.
    public mutating func append(_ other: PostgresQuery) {
        let offset = bindings.count
        bindings.append(contentsOf: other.bindings)
        guard offset > 0, other.bindings.count > 0 else {
            sql += other.sql
            return
        }
        var text = Substring(other.sql)
        while let dollar = text.firstIndex(of: "$") {
            sql += text[..<dollar]
            let digits = text[text.index(after: dollar)...].prefix { $0.isASCII && $0.isNumber }
            if let number = Int(digits) {
                sql += "$\(number + offset)"
            } else {
                sql += "$"
            }
            text = text[digits.endIndex...]
        }
        sql += text
    }

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

    /// Appends `other`'s parameters after these.
    public mutating func append(contentsOf other: PostgresBindings) {
        types += other.types
        values += other.values
    }

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
