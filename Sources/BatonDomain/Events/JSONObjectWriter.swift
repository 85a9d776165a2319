import Foundation

/// Writes JSON objects and arrays member by member, in the order given, byte for byte as
/// Foundation's `JSONEncoder` writes them: compact (for payloads), or with its `.prettyPrinted`
/// layout (two-space indents, `"key" : value`, an empty container as an opening bracket, a
/// blank line and the closing one); slashes as they are, or escaped as `\/` (as the encoder
/// does without `.withoutEscapingSlashes`) when asked. The caller lists members in the order
/// the encoder's `.sortedKeys` would and leaves out nil optionals, as synthesized `Encodable`
/// conformances do. Used by ``PayloadWriting`` and by batond's hand-written API answers.
public struct JSONObjectWriter {
    public private(set) var bytes: [UInt8] = []
    private let pretty: Bool
    private let escapingSlashes: Bool
    /// Whether each open object or array has a member yet, innermost last.
    private var hasMember: [Bool] = []

    /// - Parameters:
    ///   - pretty: the layout of `JSONEncoder.OutputFormatting.prettyPrinted`.
    ///   - escapingSlashes: false as with `.withoutEscapingSlashes`.
    public init(pretty: Bool = false, escapingSlashes: Bool = false) {
        self.pretty = pretty
        self.escapingSlashes = escapingSlashes
        bytes.reserveCapacity(pretty ? 2048 : 1024)
        hasMember.reserveCapacity(4)
    }

    public mutating func begin() { open(UInt8(ascii: "{")) }
    public mutating func end() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    private mutating func open(_ bracket: UInt8) {
        bytes.append(bracket)
        hasMember.append(false)
    }

    private mutating func close(_ bracket: UInt8) {
        let hadMembers = hasMember.removeLast()
        if pretty {
            bytes.append(UInt8(ascii: "\n"))
            if !hadMembers { bytes.append(UInt8(ascii: "\n")) }
            indent()
        }
        bytes.append(bracket)
    }

    private mutating func indent() {
        for _ in 0..<hasMember.count { bytes.append(UInt8(ascii: " ")); bytes.append(UInt8(ascii: " ")) }
    }

    /// Starts an array element.
    public mutating func element() {
        separate()
    }

    /// Starts a member: its key and the colon.
    public mutating func key(_ key: String) {
        separate()
        string(key)
        if pretty {
            bytes.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: " ")])
        } else {
            bytes.append(UInt8(ascii: ":"))
        }
    }

    public mutating func member(_ key: String, _ value: String) {
        self.key(key)
        string(value)
    }

    public mutating func member(_ key: String, _ value: String?) {
        guard let value else { return }
        member(key, value)
    }

    public mutating func member(_ key: String, _ value: Int?) {
        guard let value else { return }
        self.key(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func member(_ key: String, _ value: Bool) {
        self.key(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Instants as payloads and the API write them (``ISO8601Instant/format(_:)``).
    public mutating func member(_ key: String, _ value: Date?) {
        guard let value else { return }
        member(key, ISO8601Instant.format(value))
    }

    /// Whole numbers of moderate size as Foundation writes them (no fraction); any other
    /// number through Foundation itself, whose shortest-digits and exponent rules these bytes
    /// must match. Not a number and the infinities, which JSON cannot hold and Foundation
    /// refuses, are written as null.
    public mutating func member(_ key: String, _ value: Double?) {
        guard let value else { return }
        self.key(key)
        if value.rounded() == value, abs(value) < 1e15, value != 0 || value.sign == .plus {
            bytes.append(contentsOf: String(Int64(value)).utf8)
        } else {
            // Not finite (the only failure) cannot be JSON; Foundation refuses it as well.
            let encoded: Data = (try? JSONEncoder().encode(value)) ?? Data("null".utf8)
            bytes.append(contentsOf: encoded)
        }
    }

    private mutating func separate() {
        if hasMember[hasMember.count - 1] { bytes.append(UInt8(ascii: ",")) }
        hasMember[hasMember.count - 1] = true
        if pretty {
            bytes.append(UInt8(ascii: "\n"))
            indent()
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// A JSON string as Foundation writes it: `"` and `\` escaped, control characters as
    /// `\b \t \n \f \r` or `\u00XX`, slashes as `\/` when escaping them, everything else
    /// (non-ASCII included) as it is.
    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        let slash: UInt8 = escapingSlashes ? UInt8(ascii: "/") : UInt8(ascii: "\"")
        value.withUTF8 { text in
            guard let base = text.baseAddress else { return }
            let count = text.count
            var run = 0
            var i = 0
            while i < count {
                // Eight bytes at a time while none of them is escaped: most text has none.
                if i + 8 <= count, !Self.mayEscape(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self), slash: slash) {
                    i += 8
                    continue
                }
                let byte = base[i]
                i += 1
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == slash else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[run..<i - 1]))
                run = i
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                default: bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[run...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Whether any of the eight bytes of `word` is below 0x20, or is `"`, `\` or `slash`: the
    /// bit tricks for "has a byte less than n" and "has a zero byte", exact as to whether any
    /// byte is (a borrow can mark bytes above one that is, never a word without one).
    @inline(__always)
    static func mayEscape(_ word: UInt64, slash: UInt8) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZeroByte(_ v: UInt64) -> UInt64 { (v &- ones) & ~v & highs }
        let control = (word &- ones &* 0x20) & ~word & highs
        let quote = hasZeroByte(word ^ (ones &* UInt64(UInt8(ascii: "\""))))
        let backslash = hasZeroByte(word ^ (ones &* UInt64(UInt8(ascii: "\\"))))
        let slashes = hasZeroByte(word ^ (ones &* UInt64(slash)))
        return (control | quote | backslash | slashes) != 0
    }
}
