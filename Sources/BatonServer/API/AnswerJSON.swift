import BatonAPI
import BatonDomain
import Foundation

/// The answers to `POST /v1/tickets` and `POST /v1/leases` (served by ``HandWrittenRoutes``),
/// written member by member: the bytes the generated server's `JSONEncoder` writes for them
/// (sorted keys, pretty-printed, slashes escaped, instants by ``RFC3339DateTranscoder``),
/// without the generic `Encodable` machinery, which was the largest single part of batond's
/// work per ticket opened after HTTP itself.
///
/// Each writer lists its members in key order. `AnswerJSONTests` holds the bytes to the
/// generated server's and the members to the schema's, so a member added to `openapi.yaml`
/// and not here fails there.
enum AnswerJSON {
    static func write(_ value: Components.Schemas.OpenedTicket) -> [UInt8] {
        var w = JSONObjectWriter(pretty: true, escapingSlashes: true)
        w.begin()
        w.key("clocks")
        write(value.clocks, into: &w)
        w.member("duplicate", value.duplicate)
        w.key("routing")
        write(value.routing, into: &w)
        w.key("ticket")
        write(value.ticket, into: &w)
        w.end()
        return w.bytes
    }

    /// The answer to `POST /v1/leases`.
    static func write(_ value: Components.Schemas.LeaseGrant) -> [UInt8] {
        var w = JSONObjectWriter(pretty: true, escapingSlashes: true)
        w.begin()
        w.key("leases")
        w.beginArray()
        for ticket in value.leases {
            w.element()
            write(ticket, into: &w)
        }
        w.endArray()
        w.end()
        return w.bytes
    }

    static func write(_ t: Components.Schemas.Ticket, into w: inout JSONObjectWriter) {
        w.begin()
        w.member("agreementId", t.agreementId)
        w.member("agreementVersion", t.agreementVersion)
        w.member("category", t.category)
        if let clocks = t.clocks {
            w.key("clocks")
            write(clocks, into: &w)
        }
        w.member("department", t.department)
        w.member("description", t.description)
        w.member("escalationLevel", t.escalationLevel)
        w.member("externalReference", t.externalReference)
        w.member("firstRespondedAt", t.firstRespondedAt)
        w.member("holdReason", t.holdReason)
        w.member("id", t.id)
        w.member("leaseExpiresAt", t.leaseExpiresAt)
        w.member("leaseHolder", t.leaseHolder)
        w.member("number", t.number)
        w.member("openedAt", t.openedAt)
        w.member("priority", t.priority.rawValue)
        w.member("queue", t.queue)
        w.member("requester", t.requester)
        w.member("site", t.site)
        w.member("source", t.source)
        w.member("status", t.status.rawValue)
        w.member("subcategory", t.subcategory)
        w.member("subject", t.subject)
        w.member("vendorId", t.vendorId)
        w.member("version", t.version)
        w.end()
    }

    static func write(_ r: Components.Schemas.Routing, into w: inout JSONObjectWriter) {
        w.begin()
        w.member("agreementId", r.agreementId)
        w.member("agreementVersion", r.agreementVersion)
        w.member("queue", r.queue)
        w.member("summary", r.summary)
        w.key("trace")
        w.beginArray()
        for line in r.trace {
            w.element()
            w.string(line)
        }
        w.endArray()
        w.member("vendorId", r.vendorId)
        w.end()
    }

    static func write(_ clocks: [Components.Schemas.Clock], into w: inout JSONObjectWriter) {
        w.beginArray()
        for c in clocks {
            w.element()
            w.begin()
            w.member("dueAt", c.dueAt)
            w.member("id", c.id)
            w.member("kind", c.kind.rawValue)
            w.member("level", c.level)
            w.member("pausedMinutes", c.pausedMinutes)
            w.member("priority", c.priority)
            w.member("startedAt", c.startedAt)
            w.member("status", c.status.rawValue)
            w.member("stoppedAt", c.stoppedAt)
            w.end()
        }
        w.endArray()
    }
}
