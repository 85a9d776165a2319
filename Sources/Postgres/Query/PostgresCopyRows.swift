/// Rows for `COPY … FROM STDIN (FORMAT binary)`, encoded as they are appended.
///
/// Each row must append exactly one value per column, in the column order the COPY names,
/// and each value's Swift type must send the column's own type (`Int32` for `integer`,
/// `Int64` for `bigint`, `Date` for `timestamptz`, …). Binary COPY converts nothing and
/// checks only that each value's bytes are a valid value of its column's type: a value of
/// the wrong width fails the COPY, but an `Int64` sent to a `timestamptz` column is taken
/// as microseconds. Rows go to the server in one stream, so many rows cost one statement,
/// not one each.
///
/// ```swift
/// var rows = PostgresCopyRows(columns: ["id", "name"])
/// for item in items {
///     rows.startRow()
///     rows.append(item.id)
///     rows.append(item.name)
/// }
/// try await connection.copy(into: "items", rows)
/// ```
public struct PostgresCopyRows: Sendable {
    /// The columns each row fills, in order.
    public let columns: [String]
    /// The COPY stream: signature, flags, header extension, then the tuples so far.
    @usableFromInline var bytes: [UInt8]
    /// How many rows have been started.
    public private(set) var count = 0
    @usableFromInline var valuesInRow = 0

    public init(columns: [String]) {
        precondition(!columns.isEmpty && columns.count <= Int(Int16.max), "a COPY fills 1 to 32767 columns")
        self.columns = columns
        bytes = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]
        bytes.appendBigEndian(Int32(0))  // flags: no OIDs
        bytes.appendBigEndian(Int32(0))  // no header extension
    }

    /// Starts the next row; the previous one must have had a value for every column.
    public mutating func startRow() {
        precondition(count == 0 || valuesInRow == columns.count, "row \(count) has \(valuesInRow) of \(columns.count) values")
        bytes.appendBigEndian(Int16(columns.count))
        count += 1
        valuesInRow = 0
    }

    /// Appends the current row's next value; `nil` is SQL NULL.
    @inlinable
    public mutating func append<Value: PostgresEncodable>(_ value: Value) {
        precondition(valuesInRow < columns.count, "a row of this COPY has \(columns.count) values")
        valuesInRow += 1
        bytes.appendLengthPrefixed(value)
    }

    /// The stream's header and tuples; the trailer is ``trailer``.
    var tuples: [UInt8] {
        precondition(count == 0 || valuesInRow == columns.count, "row \(count) has \(valuesInRow) of \(columns.count) values")
        return bytes
    }

    /// The end of a binary COPY stream.
    static let trailer: [UInt8] = [0xFF, 0xFF]
}
