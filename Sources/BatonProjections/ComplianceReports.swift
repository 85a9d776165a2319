import BatonDomain
import Foundation
import Postgres

/// Auditors' reports over `rm_sla_clocks`: SLA compliance, service credits, breaches.
///
/// A clock counts in the month (UTC) in which it ended met or breached; a clock that left
/// its queue before its due instant (handed over) or was cancelled counts nowhere. Customer
/// SLA clocks are reported under the agreement id `customer`.
public struct ComplianceReports: Sendable {
    public let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// Extra dimensions a compliance report can be broken down by (it is always by agreement,
    /// vendor, clock kind and month).
    public enum Dimension: String, Sendable, CaseIterable {
        case priority, category, queue
    }

    public struct ComplianceRow: Sendable, Equatable, Codable {
        public var agreementId: String
        public var vendorId: String?
        public var kind: String
        public var month: String
        public var priority: String?
        public var category: String?
        public var queue: String?
        /// Clocks that ended met or breached in the month.
        public var ended: Int
        public var met: Int
        public var breached: Int
        /// met / ended, in percent; nil when nothing ended.
        public var compliancePercent: Double?
        /// Time from start to stop, less paused time, in minutes.
        public var meanCalendarMinutes: Double?
        public var p90CalendarMinutes: Double?
        /// The same in the clock's business time (equal to calendar time for 24×7 clocks).
        public var meanBusinessMinutes: Double?
        public var p90BusinessMinutes: Double?
        /// Clocks still running whose due instant fell in the month and passed before `to`.
        public var openPastDue: Int
    }

    public struct Filter: Sendable, Equatable {
        public var from: Date
        public var to: Date
        public var vendorId: String?
        public var agreementId: String?
        public var by: Set<Dimension>

        public init(from: Date, to: Date, vendorId: String? = nil, agreementId: String? = nil, by: Set<Dimension> = []) {
            self.from = from
            self.to = to
            self.vendorId = vendorId
            self.agreementId = agreementId
            self.by = by
        }
    }

    public func compliance(_ filter: Filter) async throws -> [ComplianceRow] {
        let byPriority = filter.by.contains(.priority), byCategory = filter.by.contains(.category), byQueue = filter.by.contains(.queue)
        let rows = try await client.query("""
            WITH clocks AS (
                SELECT COALESCE(agreement_id, 'customer') AS agreement, vendor_id, kind,
                       CASE WHEN \(byPriority) THEN priority END AS priority,
                       CASE WHEN \(byCategory) THEN category END AS category,
                       CASE WHEN \(byQueue) THEN queue END AS queue,
                       stopped_at, due_at, status,
                       extract(epoch FROM stopped_at - started_at) - paused_seconds AS calendar_seconds,
                       elapsed_seconds AS business_seconds
                FROM rm_sla_clocks
                WHERE (\(filter.vendorId)::text IS NULL OR vendor_id = \(filter.vendorId))
                  AND (\(filter.agreementId)::text IS NULL OR COALESCE(agreement_id, 'customer') = \(filter.agreementId))
            ),
            ended AS (
                SELECT agreement, vendor_id, kind, to_char(stopped_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, priority, category, queue,
                       count(*) AS ended,
                       count(*) FILTER (WHERE status = 'met') AS met,
                       count(*) FILTER (WHERE status = 'breached') AS breached,
                       avg(calendar_seconds) / 60 AS mean_calendar,
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY calendar_seconds) / 60 AS p90_calendar,
                       avg(business_seconds) / 60 AS mean_business,
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY business_seconds) / 60 AS p90_business
                FROM clocks
                WHERE stopped_at >= \(filter.from) AND stopped_at < \(filter.to) AND status IN ('met', 'breached')
                GROUP BY 1, 2, 3, 4, 5, 6, 7
            ),
            overdue AS (
                SELECT agreement, vendor_id, kind, to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, priority, category, queue,
                       count(*) AS open_past_due
                FROM clocks
                WHERE stopped_at IS NULL AND status = 'running' AND due_at >= \(filter.from) AND due_at < \(filter.to) AND due_at < now()
                GROUP BY 1, 2, 3, 4, 5, 6, 7
            )
            SELECT COALESCE(e.agreement, o.agreement), COALESCE(e.vendor_id, o.vendor_id), COALESCE(e.kind, o.kind),
                   COALESCE(e.month, o.month), COALESCE(e.priority, o.priority), COALESCE(e.category, o.category),
                   COALESCE(e.queue, o.queue), COALESCE(e.ended, 0), COALESCE(e.met, 0), COALESCE(e.breached, 0),
                   e.mean_calendar::float8, e.p90_calendar::float8, e.mean_business::float8, e.p90_business::float8,
                   COALESCE(o.open_past_due, 0)
            FROM ended e FULL JOIN overdue o
              ON e.agreement = o.agreement AND e.vendor_id IS NOT DISTINCT FROM o.vendor_id AND e.kind = o.kind
             AND e.month = o.month AND e.priority IS NOT DISTINCT FROM o.priority
             AND e.category IS NOT DISTINCT FROM o.category AND e.queue IS NOT DISTINCT FROM o.queue
            ORDER BY 1, 4, 3, 5 NULLS FIRST, 6 NULLS FIRST, 7 NULLS FIRST
            """)
        return try rows.map { row in
            let ended = Int(try row.decode(Int64.self, at: 7))
            let met = Int(try row.decode(Int64.self, at: 8))
            return ComplianceRow(
                agreementId: try row.decode(String.self, at: 0), vendorId: try row.decode(String?.self, at: 1),
                kind: try row.decode(String.self, at: 2), month: try row.decode(String.self, at: 3),
                priority: try row.decode(String?.self, at: 4), category: try row.decode(String?.self, at: 5),
                queue: try row.decode(String?.self, at: 6), ended: ended, met: met, breached: Int(try row.decode(Int64.self, at: 9)),
                compliancePercent: ended == 0 ? nil : Double(met * 100) / Double(ended),
                meanCalendarMinutes: try row.decode(Double?.self, at: 10), p90CalendarMinutes: try row.decode(Double?.self, at: 11),
                meanBusinessMinutes: try row.decode(Double?.self, at: 12), p90BusinessMinutes: try row.decode(Double?.self, at: 13),
                openPastDue: Int(try row.decode(Int64.self, at: 14)))
        }
    }

    public struct CreditRow: Sendable, Equatable, Codable {
        public var agreementId: String
        public var vendorId: String?
        public var month: String
        public var monthlyFee: Decimal?
        public var currency: String?
        /// Per clock kind: clocks ended, met, and compliance in percent.
        public var figures: [KindFigures]
        /// The clauses whose threshold was not met, the largest per kind.
        public var appliedClauses: [String]
        public var credit: Decimal

        public struct KindFigures: Sendable, Equatable, Codable {
            public var kind: String
            public var ended: Int
            public var met: Int
            public var compliancePercent: Double
        }
    }

    /// The service credits owed for `month` (`YYYY-MM`) under each vendor agreement with
    /// credit clauses, with the figures they came from. The clauses are those of the
    /// latest version of the agreement in force during the month.
    public func credits(month: String, agreements: AgreementSet) async throws -> [CreditRow] {
        guard let (from, to) = Self.monthRange(month) else { return [] }
        let rows = try await compliance(Filter(from: from, to: to))
        var result: [CreditRow] = []
        let ids = Set(agreements.agreements.filter { !$0.creditClauses.isEmpty }.map(\.id)).sorted()
        for id in ids {
            let versions = agreements.agreements.filter { $0.id == id && $0.isInForce(during: from..<to) }
            guard let agreement = versions.max(by: { $0.version < $1.version }) else { continue }
            var percent: [SLAClockKind: Double] = [:]
            var figures: [CreditRow.KindFigures] = []
            for kind in SLAClockKind.allCases {
                let matching = rows.filter { $0.agreementId == id && $0.kind == kind.rawValue }
                let ended = matching.reduce(0) { $0 + $1.ended }, met = matching.reduce(0) { $0 + $1.met }
                guard ended > 0 else { continue }
                let compliance = Double(met * 100) / Double(ended)
                percent[kind] = compliance
                figures.append(.init(kind: kind.rawValue, ended: ended, met: met, compliancePercent: compliance))
            }
            var applied: [String] = []
            for kind in SLAClockKind.allCases {
                guard let c = percent[kind],
                    let clause = agreement.creditClauses.filter({ $0.clock == kind && c < $0.belowPercent }).max(by: { $0.creditPercent < $1.creditPercent })
                else { continue }
                applied.append("\(kind.rawValue) below \(Self.percentText(clause.belowPercent)) → \(Self.percentText(clause.creditPercent)) of the fee")
            }
            result.append(CreditRow(
                agreementId: id, vendorId: agreement.vendorId, month: month, monthlyFee: agreement.monthlyFee?.amount,
                currency: agreement.monthlyFee?.currency, figures: figures, appliedClauses: applied,
                credit: agreement.serviceCredit(compliancePercent: percent)))
        }
        return result
    }

    static func percentText(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))%" : "\(value)%"
    }

    /// The instants a `YYYY-MM` month starts and ends (UTC).
    public static func monthRange(_ month: String) -> (Date, Date)? {
        let parts = month.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Int(parts[0]), let m = Int(parts[1]), (1...12).contains(m) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let start = calendar.date(from: DateComponents(year: year, month: m, day: 1)),
            let end = calendar.date(byAdding: .month, value: 1, to: start)
        else { return nil }
        return (start, end)
    }

    public struct BreachRow: Sendable, Equatable, Codable {
        public var number: String
        public var clockId: String
        public var kind: String
        public var agreementId: String
        public var vendorId: String?
        public var priority: String
        public var dueAt: Date
        /// When the clock stopped; nil while it still runs.
        public var stoppedAt: Date?
    }

    /// Every breached clock whose due instant lies in `[from, to)`, and every clock still
    /// running past a due instant in that range.
    public func breaches(from: Date, to: Date, vendorId: String? = nil) async throws -> [BreachRow] {
        try await client.query("""
            SELECT t.number, c.clock_id, c.kind, COALESCE(c.agreement_id, 'customer'), c.vendor_id, c.priority, c.due_at, c.stopped_at
            FROM rm_sla_clocks c JOIN rm_tickets t USING (ticket_id)
            WHERE c.due_at >= \(from) AND c.due_at < \(to)
              AND (c.status = 'breached' OR (c.stopped_at IS NULL AND c.status = 'running' AND c.due_at < now()))
              AND (\(vendorId)::text IS NULL OR c.vendor_id = \(vendorId))
            ORDER BY c.due_at, t.number, c.clock_id
            """).map { row in
            BreachRow(
                number: "T-\(try row.decode(Int64.self, at: 0))", clockId: try row.decode(String.self, at: 1), kind: try row.decode(String.self, at: 2),
                agreementId: try row.decode(String.self, at: 3), vendorId: try row.decode(String?.self, at: 4),
                priority: try row.decode(String.self, at: 5), dueAt: try row.decode(Date.self, at: 6), stoppedAt: try row.decode(Date?.self, at: 7))
        }
    }
}

extension Agreement {
    /// Whether any part of `range` lies within the agreement's effective dates.
    func isInForce(during range: Range<Date>) -> Bool {
        effectiveFrom < range.upperBound && (effectiveTo.map { $0 > range.lowerBound } ?? true)
    }
}
