import CLibPQ

/// Owns one `PGresult` and clears it exactly once, when the last reference goes.
///
/// `@unchecked Sendable`: a result is immutable once libpq has built it, and libpq's
/// accessors (`PQgetvalue` and friends) only read it, so it may be read from any thread.
final class PostgresResult: @unchecked Sendable {
    let pointer: OpaquePointer
    let columnNames: [String]
    let columnTypes: [PostgresDataType]
    let columnIndex: [String: Int]
    let rowCount: Int
    let affectedRows: Int

    init(pointer: OpaquePointer) {
        self.pointer = pointer
        let fields = Int(PQnfields(pointer))
        var names: [String] = []
        var types: [PostgresDataType] = []
        var index: [String: Int] = [:]
        names.reserveCapacity(fields)
        for column in 0..<fields {
            let name = String(cString: PQfname(pointer, Int32(column)))
            names.append(name)
            types.append(PostgresDataType(PQftype(pointer, Int32(column))))
            if index[name] == nil { index[name] = column }
        }
        columnNames = names
        columnTypes = types
        columnIndex = index
        rowCount = Int(PQntuples(pointer))
        affectedRows = Int(String(cString: PQcmdTuples(pointer))) ?? 0
    }

    deinit { PQclear(pointer) }
}

/// The rows a query returned, in order. Cheap to copy; the underlying result is freed when
/// the last copy (and the last ``PostgresRow`` taken from it) is gone.
public struct PostgresRows: RandomAccessCollection, Sendable {
    let result: PostgresResult

    public var startIndex: Int { 0 }
    public var endIndex: Int { result.rowCount }
    public subscript(position: Int) -> PostgresRow {
        precondition(position >= 0 && position < result.rowCount, "row index out of range")
        return PostgresRow(result: result, row: position)
    }

    /// The column names, in order.
    public var columns: [String] { result.columnNames }

    /// For INSERT, UPDATE, DELETE and the like: how many rows the statement touched.
    public var affectedRows: Int { result.affectedRows }
}

/// One row of a result. Decode columns by index or by name.
public struct PostgresRow: Sendable {
    let result: PostgresResult
    let row: Int32

    init(result: PostgresResult, row: Int) {
        self.result = result
        self.row = Int32(row)
    }

    /// The number of columns.
    public var count: Int { result.columnNames.count }

    /// Decodes the column at `index` (from 0).
    ///
    /// Throws ``PostgresDecodingError`` naming the column when its type does not fit `type`
    /// or it is NULL and `type` is not optional.
    public func decode<Value: PostgresDecodable>(_ type: Value.Type = Value.self, at index: Int) throws -> Value {
        try decodeColumn(type, at: index)
    }

    /// Decodes the column named `column`. When several columns share the name, the first.
    public func decode<Value: PostgresDecodable>(_ type: Value.Type = Value.self, column: String) throws -> Value {
        guard let index = result.columnIndex[column] else {
            throw PostgresError(
                code: .invalidQuery,
                message: "the result has no column \"\(column)\"; it has \(result.columnNames.map { "\"\($0)\"" }.joined(separator: ", "))"
            )
        }
        return try decodeColumn(type, at: index)
    }

    func decodeColumn<Value: PostgresDecodable>(_ type: Value.Type, at index: Int) throws -> Value {
        precondition(index >= 0 && index < result.columnNames.count, "column index \(index) out of range")
        let column = Int32(index)
        let pgType = result.columnTypes[index]
        do {
            if PQgetisnull(result.pointer, row, column) != 0 {
                return try Value.decodeNull()
            }
            let length = Int(PQgetlength(result.pointer, row, column))
            guard let base = PQgetvalue(result.pointer, row, column) else {
                return try Value.decodeNull()
            }
            return try Value(postgresBytes: UnsafeRawBufferPointer(start: base, count: length), type: pgType)
        } catch {
            throw PostgresDecodingError(
                column: result.columnNames[index], columnIndex: index, postgresType: pgType,
                swiftType: String(describing: Value.self), reason: error
            )
        }
    }
}
