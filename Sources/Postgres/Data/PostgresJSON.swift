import Foundation

/// A `Codable` value stored as `jsonb`.
///
/// Encodes with sorted keys so equal values produce equal documents. Decodes from `json`
/// and `jsonb` columns.
public struct PostgresJSON<Value: Codable & Sendable>: PostgresArrayElement {
    public var value: Value

    public init(_ value: Value) { self.value = value }

    public static var postgresType: PostgresDataType { .jsonb }
    public static var postgresArrayType: PostgresDataType { .jsonbArray }

    public func encode(into buffer: inout [UInt8]) {
        buffer.append(1)  // jsonb binary format version
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a Codable value to JSON fails only for non-finite floats; they are
        // programmer errors for a stored document.
        do {
            buffer.append(contentsOf: try encoder.encode(value))
        } catch {
            preconditionFailure("value of type \(Value.self) cannot be encoded as JSON: \(error)")
        }
    }

    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        let json = try PostgresRawJSON(postgresBytes: bytes, type: type)
        do {
            value = try JSONDecoder().decode(Value.self, from: Data(json.bytes))
        } catch {
            throw .malformed("JSON does not decode as \(Value.self): \(error)")
        }
    }
}

/// JSON text kept as bytes, exactly as written: sent as `json` (which PostgreSQL stores
/// verbatim, unlike `jsonb`), read from `json` or `jsonb`.
public struct PostgresRawJSON: PostgresArrayElement, Hashable {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public static var postgresType: PostgresDataType { .json }
    public static var postgresArrayType: PostgresDataType { .jsonArray }

    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: bytes) }

    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws(PostgresDecodingError.Reason) {
        switch type {
        case .json:
            self.bytes = Array(bytes)
        case .jsonb:
            guard bytes.first == 1 else { throw .malformed("unknown jsonb version") }
            self.bytes = Array(bytes.dropFirst())
        default:
            throw .typeMismatch
        }
    }
}
