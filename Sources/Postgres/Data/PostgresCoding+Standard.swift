import Foundation

// MARK: Bool

extension Bool: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .bool }
    public static var postgresArrayType: PostgresDataType { .boolArray }

    @inlinable
    public func encode(into buffer: inout [UInt8]) { buffer.append(self ? 1 : 0) }

    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        guard type == .bool else { throw .typeMismatch }
        guard bytes.count == 1 else { throw .malformed("bool must be 1 byte") }
        self = bytes[0] != 0
    }
}

// MARK: Integers

/// Reads any PostgreSQL integer column, widening as needed.
@inlinable
func decodeInteger(_ bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) -> Int64 {
    switch type {
    case .int2: return Int64(try bytes.readBigEndian(Int16.self, at: 0))
    case .int4: return Int64(try bytes.readBigEndian(Int32.self, at: 0))
    case .int8: return try bytes.readBigEndian(Int64.self, at: 0)
    case .oid: return Int64(try bytes.readBigEndian(UInt32.self, at: 0))
    default: throw .typeMismatch
    }
}

extension Int64: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .int8 }
    public static var postgresArrayType: PostgresDataType { .int8Array }
    @inlinable
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        self = try decodeInteger(bytes, type: type)
    }
}

extension Int: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .int8 }
    public static var postgresArrayType: PostgresDataType { .int8Array }
    @inlinable
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(Int64(self)) }
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        self = Int(try decodeInteger(bytes, type: type))
    }
}

extension Int32: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .int4 }
    public static var postgresArrayType: PostgresDataType { .int4Array }
    @inlinable
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        let wide = try decodeInteger(bytes, type: type)
        guard let narrow = Int32(exactly: wide) else { throw .malformed("\(type) value does not fit in Int32") }
        self = narrow
    }
}

extension Int16: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .int2 }
    public static var postgresArrayType: PostgresDataType { .int2Array }
    @inlinable
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        let wide = try decodeInteger(bytes, type: type)
        guard let narrow = Int16(exactly: wide) else { throw .malformed("\(type) value does not fit in Int16") }
        self = narrow
    }
}

// MARK: Floating point

extension Double: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .float8 }
    public static var postgresArrayType: PostgresDataType { .float8Array }
    @inlinable
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(bitPattern) }
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        switch type {
        case .float8: self = Double(bitPattern: try bytes.readBigEndian(UInt64.self, at: 0))
        case .float4: self = Double(Float(bitPattern: try bytes.readBigEndian(UInt32.self, at: 0)))
        case .int2, .int4, .int8: self = Double(try decodeInteger(bytes, type: type))
        default: throw .typeMismatch
        }
    }
}

// MARK: String

extension String: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .text }
    public static var postgresArrayType: PostgresDataType { .textArray }
    @inlinable
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        switch type {
        case .text, .varchar, .name, .bpchar, .unknown, .json:
            self = String(decoding: bytes, as: UTF8.self)
        case .jsonb:
            guard bytes.first == 1 else { throw .malformed("unknown jsonb version") }
            self = String(decoding: UnsafeRawBufferPointer(rebasing: bytes.dropFirst()), as: UTF8.self)
        default:
            throw .typeMismatch
        }
    }
}

// MARK: UUID

extension UUID: PostgresArrayElement {
    public static var postgresType: PostgresDataType { .uuid }
    public static var postgresArrayType: PostgresDataType { .uuidArray }
    @inlinable
    public func encode(into buffer: inout [UInt8]) {
        Swift.withUnsafeBytes(of: uuid) { buffer.append(contentsOf: $0) }
    }
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        guard type == .uuid else { throw .typeMismatch }
        guard bytes.count == 16 else { throw .malformed("uuid must be 16 bytes") }
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: bytes) }
        self = UUID(uuid: value)
    }
}

// MARK: Date

extension Date: PostgresArrayElement {
    /// Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01 (UTC).
    @usableFromInline static let postgresEpochOffsetMicroseconds: Int64 = 946_684_800_000_000

    public static var postgresType: PostgresDataType { .timestamptz }
    public static var postgresArrayType: PostgresDataType { .timestamptzArray }

    /// Microseconds since 1970-01-01 UTC, rounded to the nearest microsecond — the
    /// precision PostgreSQL stores.
    @inlinable
    public var microsecondsSince1970: Int64 {
        Int64((timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The instant `microseconds` after 1970-01-01 UTC.
    public init(microsecondsSince1970 microseconds: Int64) {
        self.init(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }

    @inlinable
    public func encode(into buffer: inout [UInt8]) {
        buffer.appendBigEndian(microsecondsSince1970 - Self.postgresEpochOffsetMicroseconds)
    }

    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        // `timestamp` without zone is read as UTC: Baton stores instants only as timestamptz.
        guard type == .timestamptz || type == .timestamp else { throw .typeMismatch }
        let raw = try bytes.readBigEndian(Int64.self, at: 0)
        switch raw {
        case .max: self = .distantFuture
        case .min: self = .distantPast
        default: self.init(microsecondsSince1970: raw + Self.postgresEpochOffsetMicroseconds)
        }
    }
}

// MARK: Bytes

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public static var postgresType: PostgresDataType { Element.postgresArrayType }

    @inlinable
    public func encode(into buffer: inout [UInt8]) {
        buffer.appendBigEndian(Int32(isEmpty ? 0 : 1))  // dimensions
        buffer.appendBigEndian(Int32(contains { $0.isPostgresNull } ? 1 : 0))  // has NULLs
        buffer.appendBigEndian(Element.postgresType.rawValue)
        guard !isEmpty else { return }
        buffer.appendBigEndian(Int32(count))
        buffer.appendBigEndian(Int32(1))  // lower bound
        for element in self { buffer.appendLengthPrefixed(element) }
    }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        guard type == Element.postgresArrayType else { throw .typeMismatch }
        let dimensions = try bytes.readBigEndian(Int32.self, at: 0)
        let elementType = PostgresDataType(try bytes.readBigEndian(UInt32.self, at: 8))
        guard dimensions != 0 else { self = []; return }
        guard dimensions == 1 else { throw .malformed("only one-dimensional arrays are supported") }
        let count = Int(try bytes.readBigEndian(Int32.self, at: 12))
        guard count >= 0 else { throw .malformed("negative array length") }
        var offset = 20
        var result: [Element] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(try bytes.readBigEndian(Int32.self, at: offset))
            offset += 4
            if length < 0 {
                result.append(try Element.decodeNull())
                continue
            }
            guard offset + length <= bytes.count else { throw .malformed("array element overruns the value") }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
            result.append(try Element(postgresBytes: slice, type: elementType))
            offset += length
        }
        self = result
    }
}

/// Binary data, sent and read as `bytea`.
extension Data: PostgresEncodable, PostgresDecodable {
    public static var postgresType: PostgresDataType { .bytea }
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        guard type == .bytea else { throw .typeMismatch }
        self = Data(bytes)
    }
}

/// Raw bytes, sent and read as `bytea`. (`[UInt8]` itself is an array of integers.)
public struct PostgresBytes: PostgresArrayElement, Hashable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public static var postgresType: PostgresDataType { .bytea }
    public static var postgresArrayType: PostgresDataType { .byteaArray }
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: bytes) }
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        guard type == .bytea else { throw .typeMismatch }
        self.bytes = Array(bytes)
    }
}

// MARK: Optional

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresType: PostgresDataType { Wrapped.postgresType }
    @inlinable
    public func encode(into buffer: inout [UInt8]) { self?.encode(into: &buffer) }
    @inlinable
    public var isPostgresNull: Bool { self == nil }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        self = .some(try Wrapped(postgresBytes: bytes, type: type))
    }
    public static func decodeNull() throws(PostgresDecodingError.Reason) -> Self { nil }
}

extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {
    public static var postgresArrayType: PostgresDataType { Wrapped.postgresArrayType }
}

// MARK: Raw timestamps

/// A `timestamptz` as whole microseconds since 1970-01-01 UTC: exactly what PostgreSQL
/// stores, with no floating-point step (for hashing and exact comparisons).
public struct PostgresTimestamp: PostgresArrayElement, Hashable, Comparable {
    public var microsecondsSince1970: Int64

    public init(microsecondsSince1970: Int64) { self.microsecondsSince1970 = microsecondsSince1970 }
    public init(_ date: Date) { microsecondsSince1970 = date.microsecondsSince1970 }

    public var date: Date { Date(microsecondsSince1970: microsecondsSince1970) }

    public static var postgresType: PostgresDataType { .timestamptz }
    public static var postgresArrayType: PostgresDataType { .timestamptzArray }
    public func encode(into buffer: inout [UInt8]) {
        buffer.appendBigEndian(microsecondsSince1970 - Date.postgresEpochOffsetMicroseconds)
    }
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        guard type == .timestamptz || type == .timestamp else { throw .typeMismatch }
        let raw = try bytes.readBigEndian(Int64.self, at: 0)
        let (value, overflow) = raw.addingReportingOverflow(Date.postgresEpochOffsetMicroseconds)
        guard !overflow, raw != .min else { throw .malformed("'infinity' and '-infinity' have no microsecond count; decode as Date") }
        microsecondsSince1970 = value
    }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.microsecondsSince1970 < rhs.microsecondsSince1970 }
}
