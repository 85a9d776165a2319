/// A Swift value that can be sent to PostgreSQL as a query parameter, in binary format.
public protocol PostgresEncodable: Sendable {
    /// The PostgreSQL type the value is sent as.
    static var postgresType: PostgresDataType { get }

    /// Appends the value's binary wire representation. Not called for NULL values.
    func encode(into buffer: inout [UInt8])

    /// Whether the value is SQL NULL. Only `Optional.none` is.
    var isPostgresNull: Bool { get }
}

extension PostgresEncodable {
    @inlinable
    public var isPostgresNull: Bool { false }
}

/// A Swift value that can be read from a PostgreSQL column sent in binary format.
public protocol PostgresDecodable {
    /// Decodes a non-NULL value of the given column type.
    ///
    /// Throws ``PostgresDecodingError/Reason`` when the type is not one this Swift type can
    /// be read from, or the bytes are malformed.
    init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason)

    /// The value for SQL NULL. Non-optional types throw ``PostgresDecodingError/Reason/unexpectedNull``.
    static func decodeNull() throws(PostgresDecodingError.Reason) -> Self
}

extension PostgresDecodable {
    public static func decodeNull() throws(PostgresDecodingError.Reason) -> Self {
        throw .unexpectedNull
    }
}

/// A type that can be an element of a PostgreSQL one-dimensional array.
public protocol PostgresArrayElement: PostgresEncodable, PostgresDecodable {
    /// The array type whose elements are ``PostgresEncodable/postgresType``.
    static var postgresArrayType: PostgresDataType { get }
}

/// A value that could not be decoded from a result column.
///
/// The description names the column, its PostgreSQL type and the Swift type asked for; it
/// never includes the column's value.
public struct PostgresDecodingError: Error, CustomStringConvertible, Sendable {
    public enum Reason: Error, Sendable, Equatable, CustomStringConvertible {
        /// The column's type cannot be decoded as the requested Swift type.
        case typeMismatch
        /// The column is NULL and the requested Swift type is not optional.
        case unexpectedNull
        /// The bytes do not have the shape the column type promises.
        case malformed(String)

        public var description: String {
            switch self {
            case .typeMismatch: "type mismatch"
            case .unexpectedNull: "unexpected NULL"
            case .malformed(let what): "malformed value (\(what))"
            }
        }
    }

    /// The column's name, as the query labelled it.
    public var column: String
    /// The column's index in the row, from 0.
    public var columnIndex: Int
    /// The column's PostgreSQL type.
    public var postgresType: PostgresDataType
    /// The Swift type the caller asked for.
    public var swiftType: String
    public var reason: Reason

    public var description: String {
        switch reason {
        case .typeMismatch:
            "column \"\(column)\" (index \(columnIndex)) is \(postgresType) and cannot be decoded as \(swiftType)"
        case .unexpectedNull:
            "column \"\(column)\" (index \(columnIndex)) is NULL but \(swiftType) is not optional; decode it as \(swiftType)?"
        case .malformed(let what):
            "column \"\(column)\" (index \(columnIndex)) of type \(postgresType) holds a malformed value for \(swiftType): \(what)"
        }
    }
}

// MARK: - Byte helpers

extension Array where Element == UInt8 {
    @inlinable
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    /// Appends `value` as the wire formats frame a value inside a larger one (an array
    /// element, a COPY field): its length as a big-endian Int32, or -1 for NULL, then its bytes.
    @inlinable
    mutating func appendLengthPrefixed<Value: PostgresEncodable>(_ value: Value) {
        if value.isPostgresNull {
            appendBigEndian(Int32(-1))
            return
        }
        let lengthOffset = count
        appendBigEndian(Int32(0))
        value.encode(into: &self)
        let length = count - lengthOffset - 4
        precondition(length <= Int(Int32.max), "a value is at most 2 GiB")
        Swift.withUnsafeBytes(of: Int32(length).bigEndian) { lengthBytes in
            for i in 0..<4 { self[lengthOffset + i] = lengthBytes[i] }
        }
    }
}

extension UnsafeRawBufferPointer {
    @inlinable
    func readBigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) throws(PostgresDecodingError.Reason) -> T {
        guard offset >= 0, offset + MemoryLayout<T>.size <= count else {
            throw .malformed("expected \(MemoryLayout<T>.size) bytes at offset \(offset), have \(count)")
        }
        return T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
