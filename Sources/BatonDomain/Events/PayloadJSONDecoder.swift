import Foundation

/// Decodes stored event payloads.
///
/// Projections and rebuilds decode every event of the log, so this is on the hottest read path
/// Baton has. Foundation's `JSONDecoder` builds a dictionary of every object's keys and boxes
/// every value before handing it over; this decoder scans the document once into a flat array
/// of tokens and answers keyed lookups by comparing the stored key bytes in place, which makes
/// it several times faster on payload-sized documents.
///
/// It accepts exactly the JSON (RFC 8259) that `JSONDecoder` accepts for the payload types and
/// decodes dates the way `EventJSON` writes them (ISO 8601, with or without fractional seconds,
/// `Z` or an offset). Errors are `DecodingError`s with the coding path, like Foundation's.
public struct PayloadJSONDecoder: Sendable {
    /// Creates a decoder.
    public init() {}

    /// Decodes a value of `type` from `data`.
    public func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try data.withUnsafeBytes { try decode(type, fromBytes: $0) }
    }

    /// Decodes a value of `type` from UTF-8 bytes.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { try decode(type, fromBytes: $0) }
    }

    private func decode<T: Decodable>(_ type: T.Type, fromBytes bytes: UnsafeRawBufferPointer) throws -> T {
        var scanner = JSONTapeScanner(bytes: bytes)
        let tape = try scanner.scan()
        let decoder = TapeDecoder(bytes: bytes, tape: tape)
        return try decoder.unwrap(T.self, at: 0)
    }
}

// MARK: - The tape

/// One JSON value in document order. Containers are followed by their children; `next` is the
/// index just past the value's last descendant, so siblings are found without a stack.
struct JSONToken {
    enum Kind: UInt8 { case object, array, string, escapedString, number, `true`, `false`, null }
    var kind: Kind
    /// Byte offset of the value (for strings: just after the opening quote).
    var start: Int32
    /// Byte length (strings: between the quotes, numbers: the literal) or child count (containers;
    /// for objects, the number of members).
    var length: Int32
    /// Index of the next token that is not inside this value.
    var next: Int32
}

struct JSONTapeScanner {
    let bytes: UnsafeRawBufferPointer
    var position = 0
    var tape: [JSONToken] = []
    static let maximumDepth = 256

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        tape.reserveCapacity(max(8, bytes.count / 12))
    }

    mutating func scan() throws -> [JSONToken] {
        guard bytes.count < Int(Int32.max) else { throw corrupted("the document is too large") }
        skipWhitespace()
        try scanValue(depth: 0)
        skipWhitespace()
        guard position == bytes.count else { throw corrupted("unexpected character after the document at offset \(position)") }
        return tape
    }

    private func corrupted(_ message: String) -> DecodingError {
        DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "The given data was not valid JSON: \(message)."))
    }

    @inline(__always) private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    @inline(__always) private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private mutating func scanValue(depth: Int) throws {
        guard let byte = peek() else { throw corrupted("unexpected end of the document") }
        switch byte {
        case UInt8(ascii: "{"): try scanObject(depth: depth + 1)
        case UInt8(ascii: "["): try scanArray(depth: depth + 1)
        case UInt8(ascii: "\""): try scanString()
        case UInt8(ascii: "t"): try scanLiteral("true", .true)
        case UInt8(ascii: "f"): try scanLiteral("false", .false)
        case UInt8(ascii: "n"): try scanLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber()
        default: throw corrupted("unexpected character at offset \(position)")
        }
    }

    private mutating func scanObject(depth: Int) throws {
        guard depth <= Self.maximumDepth else { throw corrupted("nested too deeply") }
        let index = tape.count
        tape.append(JSONToken(kind: .object, start: Int32(position), length: 0, next: 0))
        position += 1
        skipWhitespace()
        var members: Int32 = 0
        if peek() == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                guard peek() == UInt8(ascii: "\"") else { throw corrupted("expected a member name at offset \(position)") }
                try scanString()
                skipWhitespace()
                guard peek() == UInt8(ascii: ":") else { throw corrupted("expected ':' at offset \(position)") }
                position += 1
                skipWhitespace()
                try scanValue(depth: depth)
                members += 1
                skipWhitespace()
                guard let byte = peek() else { throw corrupted("unterminated object") }
                position += 1
                if byte == UInt8(ascii: "}") { break }
                guard byte == UInt8(ascii: ",") else { throw corrupted("expected ',' or '}' at offset \(position - 1)") }
                skipWhitespace()
            }
        }
        tape[index].length = members
        tape[index].next = Int32(tape.count)
    }

    private mutating func scanArray(depth: Int) throws {
        guard depth <= Self.maximumDepth else { throw corrupted("nested too deeply") }
        let index = tape.count
        tape.append(JSONToken(kind: .array, start: Int32(position), length: 0, next: 0))
        position += 1
        skipWhitespace()
        var elements: Int32 = 0
        if peek() == UInt8(ascii: "]") {
            position += 1
        } else {
            while true {
                try scanValue(depth: depth)
                elements += 1
                skipWhitespace()
                guard let byte = peek() else { throw corrupted("unterminated array") }
                position += 1
                if byte == UInt8(ascii: "]") { break }
                guard byte == UInt8(ascii: ",") else { throw corrupted("expected ',' or ']' at offset \(position - 1)") }
                skipWhitespace()
            }
        }
        tape[index].length = elements
        tape[index].next = Int32(tape.count)
    }

    private mutating func scanString() throws {
        position += 1
        let start = position
        var escaped = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                tape.append(JSONToken(
                    kind: escaped ? .escapedString : .string, start: Int32(start),
                    length: Int32(position - start), next: Int32(tape.count + 1)))
                position += 1
                return
            }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                position += 2
                continue
            }
            guard byte >= 0x20 else { throw corrupted("unescaped control character in a string at offset \(position)") }
            position += 1
        }
        throw corrupted("unterminated string")
    }

    private mutating func scanLiteral(_ text: StaticString, _ kind: JSONToken.Kind) throws {
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.count,
              memcmp(bytes.baseAddress! + position, text.utf8Start, count) == 0
        else { throw corrupted("unexpected character at offset \(position)") }
        tape.append(JSONToken(kind: kind, start: Int32(position), length: Int32(count), next: Int32(tape.count + 1)))
        position += count
    }

    private mutating func scanNumber() throws {
        let start = position
        func digits(_ s: inout Self) -> Int {
            let from = s.position
            while let b = s.peek(), b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { s.position += 1 }
            return s.position - from
        }
        if peek() == UInt8(ascii: "-") { position += 1 }
        if peek() == UInt8(ascii: "0") {
            position += 1
        } else {
            guard digits(&self) > 0 else { throw corrupted("invalid number at offset \(start)") }
        }
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard digits(&self) > 0 else { throw corrupted("invalid number at offset \(start)") }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            position += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { position += 1 }
            guard digits(&self) > 0 else { throw corrupted("invalid number at offset \(start)") }
        }
        tape.append(JSONToken(kind: .number, start: Int32(start), length: Int32(position - start), next: Int32(tape.count + 1)))
    }
}

// MARK: - The decoder

final class TapeDecoder: Decoder {
    let bytes: UnsafeRawBufferPointer
    let tape: [JSONToken]
    /// The token the current `init(from:)` decodes.
    var current = 0
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(bytes: UnsafeRawBufferPointer, tape: [JSONToken]) {
        self.bytes = bytes
        self.tape = tape
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        try KeyedDecodingContainer(TapeKeyedContainer<Key>(decoder: self, object: current, depth: codingPath.count))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try TapeUnkeyedContainer(decoder: self, array: current, depth: codingPath.count)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        TapeSingleValueContainer(decoder: self, index: current, depth: codingPath.count)
    }

    // MARK: Values

    /// Where a value sits, for error messages: the first `depth` keys of ``codingPath`` (the
    /// decoder's stack of nested values), then `extra` (keys of nested containers), then `key`.
    /// Paths are only built when an error needs one.
    struct Location {
        var depth: Int
        var extra: [any CodingKey] = []
        var key: (any CodingKey)?
    }

    func path(_ l: Location) -> [any CodingKey] {
        var path = Array(codingPath.prefix(l.depth))
        path.append(contentsOf: l.extra)
        if let key = l.key { path.append(key) }
        return path
    }

    /// Decodes the value at token `index`, found at `l`.
    func unwrap<T: Decodable>(_ type: T.Type, at index: Int, _ l: Location = Location(depth: 0)) throws -> T {
        if T.self == Date.self { return try date(at: index, l) as! T }
        if T.self == String.self { return try string(at: index, l) as! T }
        if T.self == UUID.self { return try uuid(at: index, l) as! T }
        if T.self == Data.self { return try data(at: index, l) as! T }
        if T.self == Decimal.self { return try decimal(at: index, l) as! T }
        if T.self == URL.self { return try url(at: index, l) as! T }
        // The stack grows and shrinks in place: no path is copied for a value that decodes.
        let savedCurrent = current
        // A container is used while the stack stands at its depth; a decoder kept past its
        // `init(from:)` (not done by payloads) gets its path rebuilt and restored.
        let saved: [any CodingKey]? = codingPath.count == l.depth ? nil : codingPath
        if saved != nil { codingPath = Array(codingPath.prefix(l.depth)) }
        current = index
        codingPath.append(contentsOf: l.extra)
        if let key = l.key { codingPath.append(key) }
        defer {
            current = savedCurrent
            if let saved { codingPath = saved } else { codingPath.removeSubrange(l.depth...) }
        }
        return try T(from: self)
    }

    @inline(__always) func token(_ index: Int) -> JSONToken { tape[index] }

    func typeMismatch(_ expected: Any.Type, at index: Int, _ l: Location) -> DecodingError {
        let kind = tape[index].kind
        let fullPath = path(l)
        if kind == .null {
            return DecodingError.valueNotFound(expected, .init(codingPath: fullPath, debugDescription: "Expected \(expected) value but found null instead."))
        }
        return DecodingError.typeMismatch(expected, .init(codingPath: fullPath, debugDescription: "Expected to decode \(expected) but found \(describe(kind)) instead."))
    }

    private func describe(_ kind: JSONToken.Kind) -> String {
        switch kind {
        case .object: "a dictionary"
        case .array: "an array"
        case .string, .escapedString: "a string"
        case .number: "a number"
        case .true, .false: "a boolean"
        case .null: "null"
        }
    }

    func corrupted(_ message: String, _ l: Location) -> DecodingError {
        DecodingError.dataCorrupted(.init(codingPath: path(l), debugDescription: message))
    }

    func string(at index: Int, _ l: Location) throws -> String {
        let t = tape[index]
        switch t.kind {
        case .string:
            let slice = UnsafeRawBufferPointer(rebasing: bytes[Int(t.start)..<Int(t.start + t.length)])
            guard let s = String(validating: slice, as: UTF8.self) else {
                throw corrupted("The string is not valid UTF-8.", l)
            }
            return s
        case .escapedString:
            return try unescape(t, l)
        default:
            throw typeMismatch(String.self, at: index, l)
        }
    }

    private func unescape(_ t: JSONToken, _ l: Location) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(Int(t.length))
        var i = Int(t.start)
        let end = Int(t.start + t.length)
        func hex4(_ at: Int) throws -> UInt32 {
            guard at + 4 <= end else { throw corrupted("Invalid \\u escape.", l) }
            var value: UInt32 = 0
            for j in at..<at + 4 {
                let b = bytes[j]
                let digit: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
                default: throw corrupted("Invalid \\u escape.", l)
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        while i < end {
            let b = bytes[i]
            guard b == UInt8(ascii: "\\") else {
                out.append(b)
                i += 1
                continue
            }
            guard i + 1 < end else { throw corrupted("Invalid escape at the end of a string.", l) }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 6 <= end, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw corrupted("Unpaired UTF-16 surrogate in a \\u escape.", l)
                    }
                    let low = try hex4(i + 2)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw corrupted("Unpaired UTF-16 surrogate in a \\u escape.", l)
                    }
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw corrupted("Unpaired UTF-16 surrogate in a \\u escape.", l)
                }
                guard let u = Unicode.Scalar(scalar) else { throw corrupted("Invalid \\u escape.", l) }
                out.append(contentsOf: UTF8.encode(u)!)
            default:
                throw corrupted("Invalid escape \\\(Character(Unicode.Scalar(e))).", l)
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw corrupted("The string is not valid UTF-8.", l)
        }
        return s
    }

    func bool(at index: Int, _ l: Location) throws -> Bool {
        switch tape[index].kind {
        case .true: true
        case .false: false
        default: throw typeMismatch(Bool.self, at: index, l)
        }
    }

    private func numberText(at index: Int, _ type: Any.Type, _ l: Location) throws -> UnsafeRawBufferPointer {
        let t = tape[index]
        guard t.kind == .number else { throw typeMismatch(type, at: index, l) }
        return UnsafeRawBufferPointer(rebasing: bytes[Int(t.start)..<Int(t.start + t.length)])
    }

    func integer<T: FixedWidthInteger>(_ type: T.Type, at index: Int, _ l: Location) throws -> T {
        let text = try numberText(at: index, type, l)
        let negative = text[0] == UInt8(ascii: "-")
        var magnitude: UInt64 = 0
        var plain = true
        for b in text.dropFirst(negative ? 1 : 0) {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { plain = false; break }
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
            guard !o1, !o2 else { plain = false; break }
            magnitude = s
        }
        if plain {
            if negative {
                if magnitude <= UInt64(Int64.max) + 1, let value = T(exactly: magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)) {
                    return value
                }
            } else if let value = T(exactly: magnitude) {
                return value
            }
        } else if let double = Double(String(decoding: text, as: UTF8.self)), let value = T(exactly: double) {
            // `1e3` or `10.0`: an integer written another way.
            return value
        }
        throw corrupted("Number \(String(decoding: text, as: UTF8.self)) does not fit in \(T.self).", l)
    }

    func floatingPoint<T: BinaryFloatingPoint & LosslessStringConvertible>(_ type: T.Type, at index: Int, _ l: Location) throws -> T {
        let text = try numberText(at: index, type, l)
        guard let value = T(String(decoding: text, as: UTF8.self)), value.isFinite else {
            throw corrupted("Number \(String(decoding: text, as: UTF8.self)) does not fit in \(T.self).", l)
        }
        return value
    }

    func date(at index: Int, _ l: Location) throws -> Date {
        let t = tape[index]
        if t.kind == .string, let date = ISO8601Instant.parse(UnsafeRawBufferPointer(rebasing: bytes[Int(t.start)..<Int(t.start + t.length)])) {
            return date
        }
        guard let date = ISO8601Instant.parse(try string(at: index, l)) else {
            throw corrupted("Expected date string to be ISO8601-formatted.", l)
        }
        return date
    }

    func uuid(at index: Int, _ l: Location) throws -> UUID {
        let text = try string(at: index, l)
        guard let uuid = UUID(uuidString: text) else {
            throw corrupted("Attempted to decode UUID from invalid UUID string.", l)
        }
        return uuid
    }

    func data(at index: Int, _ l: Location) throws -> Data {
        let text = try string(at: index, l)
        guard let data = Data(base64Encoded: text) else {
            throw corrupted("Encountered Data is not valid Base64.", l)
        }
        return data
    }

    func decimal(at index: Int, _ l: Location) throws -> Decimal {
        let text = try numberText(at: index, Decimal.self, l)
        guard let value = Decimal(string: String(decoding: text, as: UTF8.self), locale: Locale(identifier: "en_US_POSIX")) else {
            throw corrupted("Invalid decimal.", l)
        }
        return value
    }

    func url(at index: Int, _ l: Location) throws -> URL {
        let text = try string(at: index, l)
        guard let url = URL(string: text) else { throw corrupted("Invalid URL string.", l) }
        return url
    }

    /// Whether the member name at `index` (a string token) equals `name`.
    @inline(__always) func name(at index: Int, equals name: String) -> Bool {
        let t = tape[index]
        if t.kind == .escapedString {
            return (try? unescape(t, Location(depth: 0))) == name
        }
        var name = name
        return name.withUTF8 { utf8 in
            utf8.count == Int(t.length) && (utf8.count == 0 || memcmp(bytes.baseAddress! + Int(t.start), utf8.baseAddress!, utf8.count) == 0)
        }
    }
}

// MARK: - Containers

struct TapeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: TapeDecoder
    let object: Int
    let depth: Int
    let extra: [any CodingKey]

    init(decoder: TapeDecoder, object: Int, depth: Int, extra: [any CodingKey] = []) throws {
        guard decoder.tape[object].kind == .object else {
            throw decoder.typeMismatch([String: Any].self, at: object, .init(depth: depth, extra: extra))
        }
        self.decoder = decoder
        self.object = object
        self.depth = depth
        self.extra = extra
    }

    var codingPath: [any CodingKey] { decoder.path(here(nil)) }

    @inline(__always) private func here(_ key: (any CodingKey)?) -> TapeDecoder.Location {
        .init(depth: depth, extra: extra, key: key)
    }

    var allKeys: [Key] {
        var keys: [Key] = []
        var i = object + 1
        for _ in 0..<Int(decoder.tape[object].length) {
            if let name = try? decoder.string(at: i, here(nil)), let key = Key(stringValue: name) {
                keys.append(key)
            }
            i = Int(decoder.tape[i + 1].next)
        }
        return keys
    }

    /// The token index of `key`'s value, or nil.
    @inline(__always) private func find(_ key: Key) -> Int? { find(named: key.stringValue) }

    private func find(named name: String) -> Int? {
        var i = object + 1
        let tape = decoder.tape
        for _ in 0..<Int(tape[object].length) {
            if decoder.name(at: i, equals: name) { return i + 1 }
            i = Int(tape[i + 1].next)
        }
        return nil
    }

    @inline(__always) private func value(for key: Key) throws -> Int {
        guard let index = find(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return index
    }

    func contains(_ key: Key) -> Bool { find(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { decoder.tape[try value(for: key)].kind == .null }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decoder.bool(at: try value(for: key), here(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decoder.string(at: try value(for: key), here(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decoder.floatingPoint(type, at: try value(for: key), here(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decoder.floatingPoint(type, at: try value(for: key), here(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decoder.integer(type, at: try value(for: key), here(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decoder.integer(type, at: try value(for: key), here(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decoder.integer(type, at: try value(for: key), here(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decoder.integer(type, at: try value(for: key), here(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decoder.integer(type, at: try value(for: key), here(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decoder.integer(type, at: try value(for: key), here(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decoder.integer(type, at: try value(for: key), here(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decoder.integer(type, at: try value(for: key), here(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decoder.integer(type, at: try value(for: key), here(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decoder.integer(type, at: try value(for: key), here(key)) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.unwrap(type, at: try value(for: key), here(key))
    }

    // One lookup instead of `contains`, `decodeNil` and `decode`.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let index = find(key), decoder.tape[index].kind != .null else { return nil }
        return try decoder.unwrap(type, at: index, here(key))
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let index = find(key), decoder.tape[index].kind != .null else { return nil }
        return try decoder.string(at: index, here(key))
    }

    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard let index = find(key), decoder.tape[index].kind != .null else { return nil }
        return try decoder.integer(type, at: index, here(key))
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard let index = find(key), decoder.tape[index].kind != .null else { return nil }
        return try decoder.bool(at: index, here(key))
    }

    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        guard let index = find(key), decoder.tape[index].kind != .null else { return nil }
        return try decoder.floatingPoint(type, at: index, here(key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try KeyedDecodingContainer(TapeKeyedContainer<NestedKey>(decoder: decoder, object: try value(for: key), depth: depth, extra: extra + [key]))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TapeUnkeyedContainer(decoder: decoder, array: try value(for: key), depth: depth, extra: extra + [key])
    }

    func superDecoder() throws -> any Decoder {
        try superDecoder(named: "super")
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        try superDecoder(named: key.stringValue)
    }

    private func superDecoder(named name: String) throws -> any Decoder {
        let key = TapeIndexKey(stringValue: name)
        guard let index = find(named: name) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(name)."))
        }
        let nested = TapeDecoder(bytes: decoder.bytes, tape: decoder.tape)
        nested.current = index
        nested.codingPath = codingPath + [key]
        return nested
    }
}

/// A key of a super decoder or an array element; an element's name is only made when an
/// error asks for it.
struct TapeIndexKey: CodingKey {
    private var name: String?
    var intValue: Int?
    var stringValue: String { name ?? "Index \(intValue ?? 0)" }
    init(stringValue: String) { self.name = stringValue }
    init(intValue: Int) { self.intValue = intValue }
}

struct TapeUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: TapeDecoder
    let depth: Int
    let extra: [any CodingKey]
    let count: Int?
    var currentIndex = 0
    /// The token of the element at `currentIndex`.
    private var cursor: Int

    init(decoder: TapeDecoder, array: Int, depth: Int, extra: [any CodingKey] = []) throws {
        guard decoder.tape[array].kind == .array else {
            throw decoder.typeMismatch([Any].self, at: array, .init(depth: depth, extra: extra))
        }
        self.decoder = decoder
        self.depth = depth
        self.extra = extra
        self.count = Int(decoder.tape[array].length)
        self.cursor = array + 1
    }

    var codingPath: [any CodingKey] { decoder.path(here(nil)) }

    @inline(__always) private func here(_ key: (any CodingKey)?) -> TapeDecoder.Location {
        .init(depth: depth, extra: extra, key: key)
    }

    var isAtEnd: Bool { currentIndex >= count! }

    private var key: TapeIndexKey { TapeIndexKey(intValue: currentIndex) }

    private mutating func next() throws -> Int {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath + [key], debugDescription: "Unkeyed container is at end."))
        }
        let index = cursor
        cursor = Int(decoder.tape[index].next)
        currentIndex += 1
        return index
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath + [key], debugDescription: "Unkeyed container is at end."))
        }
        if decoder.tape[cursor].kind == .null {
            _ = try next()
            return true
        }
        return false
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { let k = key; return try decoder.bool(at: try next(), here(k)) }
    mutating func decode(_ type: String.Type) throws -> String { let k = key; return try decoder.string(at: try next(), here(k)) }
    mutating func decode(_ type: Double.Type) throws -> Double { let k = key; return try decoder.floatingPoint(type, at: try next(), here(k)) }
    mutating func decode(_ type: Float.Type) throws -> Float { let k = key; return try decoder.floatingPoint(type, at: try next(), here(k)) }
    mutating func decode(_ type: Int.Type) throws -> Int { let k = key; return try decoder.integer(type, at: try next(), here(k)) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { let k = key; return try decoder.integer(type, at: try next(), here(k)) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { let k = key; return try decoder.integer(type, at: try next(), here(k)) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { let k = key; return try decoder.integer(type, at: try next(), here(k)) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { let k = key; return try decoder.integer(type, at: try next(), here(k)) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { let k = key; return try decoder.integer(type, at: try next(), here(k)) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { let k = key; return try decoder.integer(type, at: try next(), here(k)) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { let k = key; return try decoder.integer(type, at: try next(), here(k)) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { let k = key; return try decoder.integer(type, at: try next(), here(k)) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { let k = key; return try decoder.integer(type, at: try next(), here(k)) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let k = key
        return try decoder.unwrap(type, at: try next(), here(k))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let k = key
        return try KeyedDecodingContainer(TapeKeyedContainer<NestedKey>(decoder: decoder, object: try next(), depth: depth, extra: extra + [k]))
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let k = key
        return try TapeUnkeyedContainer(decoder: decoder, array: try next(), depth: depth, extra: extra + [k])
    }

    mutating func superDecoder() throws -> any Decoder {
        let k = key
        let nested = TapeDecoder(bytes: decoder.bytes, tape: decoder.tape)
        nested.current = try next()
        nested.codingPath = codingPath + [k]
        return nested
    }
}

struct TapeSingleValueContainer: SingleValueDecodingContainer {
    let decoder: TapeDecoder
    let index: Int
    let depth: Int

    var codingPath: [any CodingKey] { decoder.path(here(nil)) }

    @inline(__always) private func here(_ key: (any CodingKey)?) -> TapeDecoder.Location {
        .init(depth: depth, key: key)
    }

    func decodeNil() -> Bool { decoder.tape[index].kind == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.bool(at: index, here(nil)) }
    func decode(_ type: String.Type) throws -> String { try decoder.string(at: index, here(nil)) }
    func decode(_ type: Double.Type) throws -> Double { try decoder.floatingPoint(type, at: index, here(nil)) }
    func decode(_ type: Float.Type) throws -> Float { try decoder.floatingPoint(type, at: index, here(nil)) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.integer(type, at: index, here(nil)) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.integer(type, at: index, here(nil)) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.integer(type, at: index, here(nil)) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.integer(type, at: index, here(nil)) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.integer(type, at: index, here(nil)) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.integer(type, at: index, here(nil)) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.integer(type, at: index, here(nil)) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.integer(type, at: index, here(nil)) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.integer(type, at: index, here(nil)) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.integer(type, at: index, here(nil)) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.unwrap(type, at: index, here(nil)) }
}

// MARK: - Dates

/// Parses and writes the ISO 8601 instants of stored payloads without a formatter.
public enum ISO8601Instant {
    /// Parses an instant as stored payloads write it, without a formatter where it can,
    /// else with Foundation's ISO 8601 parser (with or without fractional seconds).
    public static func parse(_ text: String) -> Date? {
        var text = text
        if let date = text.withUTF8({ parse(UnsafeRawBufferPointer($0)) }) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        return try? Date(text, strategy: .iso8601)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`; nil for anything else (callers
    /// then fall back to Foundation's parser).
    public static func parse(_ text: UnsafeRawBufferPointer) -> Date? {
        let n = text.count
        guard n >= 20 else { return nil }
        @inline(__always) func digits(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for i in from..<from + count {
                let d = Int(text[i]) &- 48
                guard d >= 0, d <= 9 else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard let year = digits(0, 4), text[4] == UInt8(ascii: "-"),
              let month = digits(5, 2), text[7] == UInt8(ascii: "-"),
              let day = digits(8, 2), text[10] == UInt8(ascii: "T") || text[10] == UInt8(ascii: "t"),
              let hour = digits(11, 2), text[13] == UInt8(ascii: ":"),
              let minute = digits(14, 2), text[16] == UInt8(ascii: ":"),
              let second = digits(17, 2),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 59,
              // Foundation counts days before the Gregorian reform by the Julian calendar.
              year >= 1601
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < n, text[i] == UInt8(ascii: ".") {
            i += 1
            var numerator = 0
            var scale = 1
            let from = i
            while i < n, text[i] >= UInt8(ascii: "0"), text[i] <= UInt8(ascii: "9") {
                if i - from < 9 {
                    numerator = numerator * 10 + Int(text[i] - UInt8(ascii: "0"))
                    scale *= 10
                }
                i += 1
            }
            guard i > from else { return nil }
            fraction = Double(numerator) / Double(scale)
        }
        guard i < n else { return nil }
        var offset = 0
        switch text[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = text[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard i + 2 <= n, let hours = digits(i, 2) else { return nil }
            i += 2
            if i < n, text[i] == UInt8(ascii: ":") { i += 1 }
            guard i + 2 <= n, let minutes = digits(i, 2), hours <= 23, minutes <= 59 else { return nil }
            i += 2
            offset = sign * (hours * 3600 + minutes * 60)
        default:
            return nil
        }
        guard i == n else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        // Whole seconds since 2001 plus the fraction, as Foundation's parser adds them, so both
        // give the same Double.
        return Date(timeIntervalSinceReferenceDate: Double(seconds - 978_307_200) + fraction)
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, in UTC, as Foundation's ISO 8601 style with fractional
    /// seconds writes it (the milliseconds truncated, not rounded). Written here for the
    /// years 1601 to 9998; any other instant goes to Foundation (which counts days before
    /// the Gregorian reform by the Julian calendar).
    public static func format(_ date: Date) -> String {
        format(date, milliseconds: true)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, in UTC, as Foundation's default ISO 8601 style writes it (the
    /// fraction dropped, not rounded), under the same limits as ``format(_:)``.
    public static func formatWholeSeconds(_ date: Date) -> String {
        format(date, milliseconds: false)
    }

    private static func format(_ date: Date, milliseconds withMilliseconds: Bool) -> String {
        // From the interval Date keeps (since 2001), as Foundation's style computes it.
        let interval = date.timeIntervalSinceReferenceDate
        guard interval.isFinite, interval > -12_622_780_800, interval < 252_392_457_600 else {  // 1601-01-01, 9999-01-01
            return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: withMilliseconds))
        }
        let whole = interval.rounded(.down)
        let milliseconds = min(999, Int(((interval - whole) * 1000).rounded(.down)))
        let seconds = Int(whole) + 978_307_200
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilFromDays(days)
        var bytes = [UInt8](repeating: UInt8(ascii: "0"), count: withMilliseconds ? 24 : 20)
        @inline(__always) func put(_ value: Int, at index: Int, width: Int) {
            var value = value
            for i in stride(from: index + width - 1, through: index, by: -1) {
                bytes[i] = UInt8(ascii: "0") &+ UInt8(value % 10)
                value /= 10
            }
        }
        put(year, at: 0, width: 4); bytes[4] = UInt8(ascii: "-")
        put(month, at: 5, width: 2); bytes[7] = UInt8(ascii: "-")
        put(day, at: 8, width: 2); bytes[10] = UInt8(ascii: "T")
        put(secondOfDay / 3600, at: 11, width: 2); bytes[13] = UInt8(ascii: ":")
        put(secondOfDay / 60 % 60, at: 14, width: 2); bytes[16] = UInt8(ascii: ":")
        put(secondOfDay % 60, at: 17, width: 2)
        if withMilliseconds {
            bytes[19] = UInt8(ascii: ".")
            put(milliseconds, at: 20, width: 3)
        }
        bytes[bytes.count - 1] = UInt8(ascii: "Z")
        return String(decoding: bytes, as: UTF8.self)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
