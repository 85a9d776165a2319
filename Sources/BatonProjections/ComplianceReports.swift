import BatonDomain
import Foundation
import Postgres

/// Auditors' reports over `rm_compliance` and `rm_sla_clocks`: SLA compliance, service
/// credits, breaches.
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

    /// Whole months are read from `rm_compliance`; the parts of months a range only partly
    /// covers are counted from the clocks themselves, with the same arithmetic. Percentiles
    /// come from the duration histograms (to within 1%); counts and means are exact.
    public func compliance(_ filter: Filter) async throws -> [ComplianceRow] {
        guard filter.from < filter.to else { return [] }
        let span = Self.wholeMonths(from: filter.from, to: filter.to)
        var groups: [ReportKey: ComplianceFigures] = [:]
        func add(_ key: ComplianceKey, _ figures: ComplianceFigures) {
            groups[ReportKey(key, by: filter.by), default: ComplianceFigures()].merge(figures)
        }
        // One snapshot for all three reads, so a clock the projection moves meanwhile is
        // counted once.
        return try await client.withTransaction(isolation: .repeatableRead) { connection in
            var partial: [(Date, Date)] = []
            if let (first, last, firstStart, lastEnd) = span {
                for row in try await connection.query("""
                    SELECT \(unescaped: ComplianceRows.columns) FROM rm_compliance c
                    WHERE c.month >= \(first) AND c.month <= \(last) AND c.ended <> 0
                      AND (\(filter.vendorId)::text IS NULL OR c.vendor_id = \(filter.vendorId))
                      AND (\(filter.agreementId)::text IS NULL OR c.agreement_id = \(filter.agreementId))
                    """) {
                    let (key, figures) = try ComplianceRows.decode(row)
                    add(key, figures)
                }
                if filter.from < firstStart { partial.append((filter.from, firstStart)) }
                if lastEnd < filter.to { partial.append((lastEnd, filter.to)) }
            } else {
                partial.append((filter.from, filter.to))
            }
            for (from, to) in partial {
                for row in try await connection.query("""
                    SELECT \(unescaped: EndedClock.columns) FROM rm_sla_clocks
                    WHERE stopped_at >= \(from) AND stopped_at < \(to) AND status IN ('met', 'breached')
                      AND (\(filter.vendorId)::text IS NULL OR vendor_id = \(filter.vendorId))
                      AND (\(filter.agreementId)::text IS NULL OR COALESCE(agreement_id, 'customer') = \(filter.agreementId))
                    """) {
                    if let (key, figures) = try EndedClock(row: row).contribution { add(key, figures) }
                }
            }
            // Clocks still running past a due instant in the range: live, from the clocks.
            var overdue: [ReportKey: Int] = [:]
            for row in try await connection.query("""
                SELECT COALESCE(agreement_id, 'customer'), vendor_id, queue, kind, to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM'),
                       priority, category, count(*)
                FROM rm_sla_clocks
                WHERE stopped_at IS NULL AND status = 'running' AND due_at >= \(filter.from) AND due_at < \(filter.to) AND due_at < now()
                  AND (\(filter.vendorId)::text IS NULL OR vendor_id = \(filter.vendorId))
                  AND (\(filter.agreementId)::text IS NULL OR COALESCE(agreement_id, 'customer') = \(filter.agreementId))
                GROUP BY 1, 2, 3, 4, 5, 6, 7
                """) {
                let key = ComplianceKey(
                    agreementId: try row.decode(String.self, at: 0), vendorId: try row.decode(String?.self, at: 1),
                    queue: try row.decode(String?.self, at: 2), kind: try row.decode(String.self, at: 3),
                    month: try row.decode(String.self, at: 4), priority: try row.decode(String.self, at: 5),
                    category: try row.decode(String.self, at: 6))
                overdue[ReportKey(key, by: filter.by), default: 0] += Int(try row.decode(Int64.self, at: 7))
            }
            let keys = Set(groups.filter { $0.value.ended != 0 }.keys).union(overdue.keys)
            return keys.sorted().map { key in
                let figures = groups[key] ?? ComplianceFigures()
                let ended = Int(figures.ended), met = Int(figures.met)
                func minutes(_ micros: Int64) -> Double? { ended == 0 ? nil : Double(micros) / Double(ended) / 60_000_000 }
                return ComplianceRow(
                    agreementId: key.agreementId, vendorId: key.vendorId, kind: key.kind, month: key.month,
                    priority: key.priority, category: key.category, queue: key.queue,
                    ended: ended, met: met, breached: Int(figures.breached),
                    compliancePercent: ended == 0 ? nil : Double(met * 100) / Double(ended),
                    meanCalendarMinutes: minutes(figures.calendarMicroseconds),
                    p90CalendarMinutes: figures.calendar.percentile(0.9).map { $0 / 60 },
                    meanBusinessMinutes: minutes(figures.businessMicroseconds),
                    p90BusinessMinutes: figures.business.percentile(0.9).map { $0 / 60 },
                    openPastDue: overdue[key] ?? 0)
            }
        }
    }

    /// A row of a report: the compliance key with the dimensions not asked for left out,
    /// ordered by agreement, month, kind, then priority, category and queue (absent first).
    struct ReportKey: Hashable, Comparable {
        var agreementId: String
        var vendorId: String?
        var kind: String
        var month: String
        var priority: String?
        var category: String?
        var queue: String?

        init(_ key: ComplianceKey, by: Set<Dimension>) {
            agreementId = key.agreementId
            vendorId = key.vendorId
            kind = key.kind
            month = key.month
            priority = by.contains(.priority) ? key.priority : nil
            category = by.contains(.category) ? key.category : nil
            queue = by.contains(.queue) ? key.queue : nil
        }

        static func < (a: ReportKey, b: ReportKey) -> Bool {
            a.order.lexicographicallyPrecedes(b.order)
        }

        private var order: [String] {
            [agreementId, month, kind] + [priority, category, queue, vendorId].map { $0.map { "1" + $0 } ?? "0" }
        }
    }

    /// The whole UTC months within `[from, to)`: the first and last as `YYYY-MM`, the
    /// instant the first starts and the instant the last ends; nil when there is none.
    static func wholeMonths(from: Date, to: Date) -> (String, String, Date, Date)? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let startOfFromMonth = calendar.date(from: calendar.dateComponents([.year, .month], from: from))!
        let firstStart = startOfFromMonth == from ? from : calendar.date(byAdding: .month, value: 1, to: startOfFromMonth)!
        let lastEnd = calendar.date(from: calendar.dateComponents([.year, .month], from: to))!
        guard firstStart < lastEnd, let lastStart = calendar.date(byAdding: .month, value: -1, to: lastEnd) else { return nil }
        return (firstStart.utcMonth, lastStart.utcMonth, firstStart, lastEnd)
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
