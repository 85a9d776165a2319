import Foundation

/// Hand-written JSON for the payloads written on every ticket opened and every lease
/// (`TicketOpened`, `TicketRouted`, `TicketLeased`): the bytes ``EventJSON/encoder`` writes for
/// them (keys in UTF-8 order, optionals left out when nil, slashes unescaped, instants with
/// milliseconds), without the boxing of a generic encoder, which made encoding these two
/// or three events a tenth of batond's work when opening tickets.
///
/// Each writer lists its members in key order; `PayloadWritingTests` holds every one to
/// Foundation's bytes, so a member added to a payload and not here fails there.
enum PayloadWriting {
    static func write(_ e: TicketOpened) -> [UInt8] {
        var w = JSONObjectWriter()
        w.begin()
        w.key("details")
        write(e.details, into: &w)
        w.member("number", e.number)
        w.member("priority", e.priority.rawValue)
        w.member("prioritySource", e.prioritySource)
        w.member("ticketId", e.ticketId.uuidString)
        w.end()
        return w.bytes
    }

    static func write(_ e: TicketRouted) -> [UInt8] {
        var w = JSONObjectWriter()
        w.begin()
        w.key("assignment")
        write(e.assignment, into: &w)
        w.member("cause", e.cause.rawValue)
        w.member("summary", e.summary)
        w.key("trace")
        w.beginArray()
        for line in e.trace {
            w.element()
            w.begin()
            w.member("agreementId", line.agreementId)
            w.member("agreementVersion", line.agreementVersion)
            w.member("explanation", line.explanation)
            w.member("outcome", line.outcome)
            w.member("reason", line.reason)
            w.end()
        }
        w.endArray()
        w.end()
        return w.bytes
    }

    static func write(_ e: TicketLeased) -> [UInt8] {
        var w = JSONObjectWriter()
        w.begin()
        w.member("expiresAt", ISO8601Instant.format(e.expiresAt))
        w.member("holder", e.holder.rawValue)
        w.end()
        return w.bytes
    }

    private static func write(_ d: TicketDetails, into w: inout JSONObjectWriter) {
        w.begin()
        w.member("category", d.category.rawValue)
        w.member("channel", d.channel.rawValue)
        w.member("department", d.department)
        w.member("description", d.description)
        w.member("externalReference", d.externalReference)
        w.member("impact", d.impact.rawValue)
        w.member("requester", d.requester)
        w.member("site", d.site)
        w.member("source", d.source)
        w.member("subcategory", d.subcategory)
        w.member("subject", d.subject)
        w.member("urgency", d.urgency.rawValue)
        w.end()
    }

    private static func write(_ a: QueueAssignment, into w: inout JSONObjectWriter) {
        w.begin()
        w.member("agreementId", a.agreementId)
        w.member("agreementVersion", a.agreementVersion)
        w.member("queue", a.queue)
        w.member("vendorId", a.vendorId)
        w.end()
    }
}

/// Writes compact JSON objects and arrays member by member, in the order given.
struct JSONObjectWriter {
    var bytes: [UInt8] = []
    /// Whether the innermost open object or array has a member yet.
    private var hasMember: [Bool] = []

    init() {
        bytes.reserveCapacity(1024)
        hasMember.reserveCapacity(4)
    }

    mutating func begin() { open(UInt8(ascii: "{")) }
    mutating func end() { close(UInt8(ascii: "}")) }
    mutating func beginArray() { open(UInt8(ascii: "[")) }
    mutating func endArray() { close(UInt8(ascii: "]")) }

    private mutating func open(_ bracket: UInt8) {
        bytes.append(bracket)
        hasMember.append(false)
    }

    private mutating func close(_ bracket: UInt8) {
        bytes.append(bracket)
        hasMember.removeLast()
    }

    /// Starts an array element.
    mutating func element() {
        separate()
    }

    /// Starts a member: its key and the colon.
    mutating func key(_ key: String) {
        separate()
        string(key)
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func member(_ key: String, _ value: String) {
        self.key(key)
        string(value)
    }

    /// Left out when nil, as synthesized `Encodable` conformances do.
    mutating func member(_ key: String, _ value: String?) {
        guard let value else { return }
        member(key, value)
    }

    mutating func member(_ key: String, _ value: Int?) {
        guard let value else { return }
        self.key(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    private mutating func separate() {
        if hasMember[hasMember.count - 1] { bytes.append(UInt8(ascii: ",")) }
        hasMember[hasMember.count - 1] = true
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// A JSON string as Foundation writes it: `"` and `\` escaped, control characters as
    /// `\b \t \n \f \r` or `\u00XX`, everything else (slashes, non-ASCII) as it is.
    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { text in
            var run = 0
            for i in 0..<text.count {
                let byte = text[i]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[run..<i]))
                run = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
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
}
