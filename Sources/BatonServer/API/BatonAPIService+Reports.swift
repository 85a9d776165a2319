import BatonAPI
import BatonDomain
import BatonProjections
import EventStore
import Foundation
import OpenAPIRuntime

/// Auditors' reports (compliance, credits, breaches) and queues as they stood.
extension BatonAPIService {
    /// Who may read reports, and the vendor whose figures a vendor is limited to.
    private func reportReader() throws -> (principal: Principal, vendor: String?) {
        let principal = try caller()
        switch principal.role {
        case .admin, .agent, .auditor: return (principal, nil)
        case .vendor: return (principal, principal.subject ?? "\u{0}")
        case .ingest: throw APIProblem.forbidden("reports are for auditors, admins, agents and vendors")
        }
    }

    /// `[from, to)`: a month, or the given instants, by default last month (UTC).
    private func range(month: String?, from: Date?, to: Date?) throws -> (Date, Date) {
        if let month {
            guard from == nil, to == nil else { throw APIProblem.invalid("month", "either month or from and to, not both") }
            guard let range = ComplianceReports.monthRange(month) else { throw APIProblem.invalid("month", "a month such as 2026-10") }
            return range
        }
        let thisMonth = Self.monthText(now())
        guard let current = ComplianceReports.monthRange(thisMonth), let previous = ComplianceReports.monthRange(Self.monthText(current.0.addingTimeInterval(-1))) else {
            preconditionFailure("month arithmetic")
        }
        let range = (from ?? previous.0, to ?? current.0)
        guard range.0 < range.1 else { throw APIProblem.invalid("to", "an instant after from") }
        return range
    }

    static func monthText(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month], from: date)
        return String(format: "%04d-%02d", c.year ?? 1970, c.month ?? 1)
    }

    static func wantsCSV<T: AcceptableProtocol>(_ accept: [AcceptHeaderContentType<T>], csv: T) -> Bool {
        accept.sortedByQuality().first?.contentType == csv
    }

    func complianceReport(_ input: Operations.ComplianceReport.Input) async throws -> Operations.ComplianceReport.Output {
        await answering(Operations.ComplianceReport.Output.default) {
            let (_, ownVendor) = try reportReader()
            let q = input.query
            let (from, to) = try range(month: q.month, from: q.from, to: q.to)
            if let ownVendor, let asked = q.vendor, asked != ownVendor { throw APIProblem.forbidden("a vendor sees its own figures only") }
            let by = Set((q.groupBy ?? []).compactMap { ComplianceReports.Dimension(rawValue: $0.rawValue) })
            let rows = try await ComplianceReports(client: tickets.store.client).compliance(
                .init(from: from, to: to, vendorId: ownVendor ?? q.vendor, agreementId: q.agreement, by: by))
            if Self.wantsCSV(input.headers.accept, csv: .csv) {
                var csv = CSVWriter(header: [
                    "agreement", "vendor", "kind", "month", "priority", "category", "queue", "ended", "met", "breached",
                    "compliance_percent", "mean_calendar_minutes", "p90_calendar_minutes", "mean_business_minutes",
                    "p90_business_minutes", "open_past_due",
                ])
                for r in rows {
                    csv.row([r.agreementId, r.vendorId, r.kind, r.month, r.priority, r.category, r.queue, "\(r.ended)", "\(r.met)",
                             "\(r.breached)", CSVWriter.number(r.compliancePercent), CSVWriter.number(r.meanCalendarMinutes),
                             CSVWriter.number(r.p90CalendarMinutes), CSVWriter.number(r.meanBusinessMinutes),
                             CSVWriter.number(r.p90BusinessMinutes), "\(r.openPastDue)"])
                }
                return .ok(.init(body: .csv(HTTPBody(csv.text))))
            }
            return .ok(.init(body: .json(.init(rows: rows.map { r in
                Components.Schemas.ComplianceRow(
                    agreementId: r.agreementId, vendorId: r.vendorId, kind: .init(rawValue: r.kind) ?? .resolution, month: r.month,
                    priority: r.priority, category: r.category, queue: r.queue, ended: r.ended, met: r.met, breached: r.breached,
                    compliancePercent: r.compliancePercent, meanCalendarMinutes: r.meanCalendarMinutes,
                    p90CalendarMinutes: r.p90CalendarMinutes, meanBusinessMinutes: r.meanBusinessMinutes,
                    p90BusinessMinutes: r.p90BusinessMinutes, openPastDue: r.openPastDue)
            }))))
        }
    }

    func creditsReport(_ input: Operations.CreditsReport.Input) async throws -> Operations.CreditsReport.Output {
        await answering(Operations.CreditsReport.Output.default) {
            let (_, ownVendor) = try reportReader()
            let month: String
            if let given = input.query.month {
                guard ComplianceReports.monthRange(given) != nil else { throw APIProblem.invalid("month", "a month such as 2026-10") }
                month = given
            } else {
                month = Self.monthText((ComplianceReports.monthRange(Self.monthText(now()))?.0 ?? now()).addingTimeInterval(-1))
            }
            guard let set = try await agreements.current() else { throw TicketOpener.NoAgreements() }
            var rows = try await ComplianceReports(client: tickets.store.client).credits(month: month, agreements: set)
            if let ownVendor { rows = rows.filter { $0.vendorId == ownVendor } }
            if Self.wantsCSV(input.headers.accept, csv: .csv) {
                var csv = CSVWriter(header: [
                    "agreement", "vendor", "month", "kind", "ended", "met", "compliance_percent", "monthly_fee", "currency",
                    "applied_clauses", "credit",
                ])
                for r in rows {
                    let figures = r.figures.isEmpty ? [nil] : r.figures.map(Optional.some)
                    for f in figures {
                        csv.row([r.agreementId, r.vendorId, r.month, f?.kind, f.map { "\($0.ended)" }, f.map { "\($0.met)" },
                                 CSVWriter.number(f?.compliancePercent), r.monthlyFee.map { "\($0)" }, r.currency,
                                 r.appliedClauses.joined(separator: "; "), "\(r.credit)"])
                    }
                }
                return .ok(.init(body: .csv(HTTPBody(csv.text))))
            }
            return .ok(.init(body: .json(.init(rows: rows.map { r in
                Components.Schemas.CreditRow(
                    agreementId: r.agreementId, vendorId: r.vendorId, month: r.month, monthlyFee: r.monthlyFee.map { "\($0)" },
                    currency: r.currency,
                    figures: r.figures.map { .init(kind: $0.kind, ended: $0.ended, met: $0.met, compliancePercent: $0.compliancePercent) },
                    appliedClauses: r.appliedClauses, credit: "\(r.credit)")
            }))))
        }
    }

    func breachesReport(_ input: Operations.BreachesReport.Input) async throws -> Operations.BreachesReport.Output {
        await answering(Operations.BreachesReport.Output.default) {
            let (_, ownVendor) = try reportReader()
            let (from, to) = try range(month: nil, from: input.query.from, to: input.query.to)
            if let ownVendor, let asked = input.query.vendor, asked != ownVendor { throw APIProblem.forbidden("a vendor sees its own breaches only") }
            let rows = try await ComplianceReports(client: tickets.store.client).breaches(from: from, to: to, vendorId: ownVendor ?? input.query.vendor)
            if Self.wantsCSV(input.headers.accept, csv: .csv) {
                var csv = CSVWriter(header: ["number", "clock", "kind", "agreement", "vendor", "priority", "due_at", "stopped_at"])
                for r in rows {
                    csv.row([r.number, r.clockId, r.kind, r.agreementId, r.vendorId, r.priority, CSVWriter.instant(r.dueAt), r.stoppedAt.map(CSVWriter.instant)])
                }
                return .ok(.init(body: .csv(HTTPBody(csv.text))))
            }
            return .ok(.init(body: .json(.init(rows: rows.map {
                .init(number: $0.number, clockId: $0.clockId, kind: $0.kind, agreementId: $0.agreementId, vendorId: $0.vendorId,
                      priority: $0.priority, dueAt: $0.dueAt, stoppedAt: $0.stoppedAt)
            }))))
        }
    }

    func getQueue(_ input: Operations.GetQueue.Input) async throws -> Operations.GetQueue.Output {
        await answering(Operations.GetQueue.Output.default) {
            let principal = try caller()
            let queue = input.path.queue
            if principal.role == .vendor || principal.role == .ingest {
                guard try await agreements.queues(for: principal).contains(queue) else {
                    throw APIProblem(status: 404, code: "queue-not-found", title: "No such queue", detail: "queue: \(queue) is not one of yours")
                }
            }
            let asOf = input.query.asOf ?? now()
            // Folded from the log, not read from a projection: every ticket ever placed in
            // the queue up to the instant, kept if it was open there then.
            let candidates = try await tickets.store.client.query("""
                SELECT DISTINCT stream FROM events
                WHERE type IN ('TicketRouted', 'TicketReassigned') AND occurred_at <= \(asOf)
                  AND data::jsonb -> 'assignment' ->> 'queue' = \(queue)
                """).map { try $0.decode(String.self, at: 0) }
            var open: [Ticket] = []
            for stream in candidates {
                let all = try await tickets.store.readStream(stream).map(TicketStore.decode)
                guard let ticket = TicketDecider.fold(all.filter { $0.occurredAt <= asOf }), ticket.isActive,
                    ticket.assignment?.placement.queue == queue,
                    // Its own then (a vendor's, even in a queue name another agreement uses), and,
                    // as everywhere, now: a ticket a vendor held then and has given up is not its
                    // to read any more.
                    Self.isVisible(ticket, to: principal),
                    principal.role != .vendor || TicketDecider.fold(all).map({ Self.isVisible($0, to: principal) }) == true
                else { continue }
                open.append(ticket)
            }
            open.sort { ($0.priority, $0.openedAt, $0.number) < ($1.priority, $1.openedAt, $1.number) }
            return .ok(.init(body: .json(.init(queue: queue, asOf: asOf, tickets: open.map(Self.document)))))
        }
    }
}

/// CSV as RFC 4180 says: comma-separated, CRLF line ends, fields quoted when they hold a
/// comma, quote or line break.
struct CSVWriter {
    private(set) var text = ""

    init(header: [String]) { row(header) }

    mutating func row(_ fields: [String?]) {
        text += fields.map { Self.field($0 ?? "") }.joined(separator: ",") + "\r\n"
    }

    static func field(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func number(_ value: Double?) -> String? { value.map { String(format: "%.2f", $0) } }

    static func instant(_ date: Date) -> String { date.formatted(.iso8601) }
}
