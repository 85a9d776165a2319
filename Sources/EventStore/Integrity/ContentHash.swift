import Crypto
import Foundation
import Postgres

/// The hashes that make the log tamper-evident.
///
/// Content hash: SHA-256 over every field the writer supplied, each as a 4-byte big-endian
/// length followed by its bytes (so no two different events share an encoding). Chain hash:
/// SHA-256(previous hash ‖ content hash ‖ position ‖ stream version ‖ recorded-at µs), the
/// integers as 8-byte big-endian; the database computes it at append, `verify` recomputes it.
enum ContentHash {
    static let genesis = [UInt8](repeating: 0, count: 32)

    static func compute(event: NewEvent, stream: String, commandId: UUID?) -> [UInt8] {
        compute(
            id: event.id, stream: stream, type: event.type, schemaVersion: event.schemaVersion, data: event.data,
            occurredAtMicroseconds: event.occurredAt.microsecondsSince1970, actor: event.actor,
            correlationId: event.correlationId, causationId: event.causationId, commandId: commandId)
    }

    static func compute(
        id: UUID, stream: String, type: String, schemaVersion: Int, data: [UInt8], occurredAtMicroseconds: Int64,
        actor: String, correlationId: UUID?, causationId: UUID?, commandId: UUID?
    ) -> [UInt8] {
        var hasher = SHA256()
        func field<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
            let array = Array(bytes)
            hasher.update(data: bigEndian(UInt32(array.count)))
            hasher.update(data: array)
        }
        field(uuidBytes(id))
        field(stream.utf8)
        field(type.utf8)
        field(bigEndian(Int32(schemaVersion)))
        field(data)
        field(bigEndian(occurredAtMicroseconds))
        field(actor.utf8)
        field(correlationId.map(uuidBytes) ?? [])
        field(causationId.map(uuidBytes) ?? [])
        field(commandId.map(uuidBytes) ?? [])
        return Array(hasher.finalize())
    }

    static func chain(previous: [UInt8], contentHash: [UInt8], position: Int64, streamVersion: Int64, recordedAtMicroseconds: Int64) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: contentHash)
        hasher.update(data: bigEndian(position))
        hasher.update(data: bigEndian(streamVersion))
        hasher.update(data: bigEndian(recordedAtMicroseconds))
        return Array(hasher.finalize())
    }

    private static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    private static func uuidBytes(_ id: UUID) -> [UInt8] {
        withUnsafeBytes(of: id.uuid) { Array($0) }
    }
}

extension Array where Element == UInt8 {
    /// Lower-case hexadecimal.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
