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
        w.member("expiresAt", e.expiresAt)
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
