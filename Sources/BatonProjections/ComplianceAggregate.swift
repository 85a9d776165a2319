import Foundation
import Postgres

/// Durations summarised so that summaries add and subtract exactly: a histogram whose
/// buckets are 2% wide, from which a percentile is read to within 1% (durations under a
/// second read as 0).
///
/// Bucket 0 holds durations under one second and stands for 0 (so a clock that ran no
/// business time reads as none); bucket *i* ≥ 1 holds [γ^(i−1), γ^i) seconds, γ = 1.02,
/// and stands for 2γ^i / (γ + 1), whose relative distance to any value in the bucket is at
/// most (γ − 1) / (γ + 1) < 1%.
public struct DurationHistogram: Sendable, Equatable {
    static let gamma = 1.02
    static let logGamma = log(gamma)

    /// bucket → count; counts may be negative in a delta, never in a stored summary.
    public private(set) var counts: [Int32: Int32] = [:]

    public init() {}

    static func bucket(_ seconds: Double) -> Int32 {
        seconds < 1 ? 0 : 1 + Int32((log(seconds) / logGamma).rounded(.down))
    }

    static func value(ofBucket bucket: Int32) -> Double {
        bucket == 0 ? 0 : 2 * pow(gamma, Double(bucket)) / (gamma + 1)
    }

    public mutating func add(_ seconds: Double, count: Int32 = 1) {
        add(bucket: Self.bucket(seconds), count: count)
    }

    mutating func add(bucket: Int32, count: Int32) {
        let total = counts[bucket, default: 0] + count
        counts[bucket] = total == 0 ? nil : total
    }

    public mutating func merge(_ other: DurationHistogram, sign: Int32 = 1) {
        for (bucket, count) in other.counts { add(bucket: bucket, count: sign * count) }
    }

    public var isEmpty: Bool { counts.isEmpty }

    /// The `p` quantile (0…1), interpolated between neighbouring ranks like PostgreSQL's
    /// `percentile_cont`; nil when empty.
    public func percentile(_ p: Double) -> Double? {
        let total = counts.values.reduce(0) { $0 + Int($1) }
        guard total > 0 else { return nil }
        let rank = p * Double(total - 1)
        let lower = Int(rank.rounded(.down)), upper = Int(rank.rounded(.up))
        var seen = 0
        var low: Double?, high: Double?
        for bucket in counts.keys.sorted() {
            seen += Int(counts[bucket]!)
            if low == nil, lower < seen { low = Self.value(ofBucket: bucket) }
            if upper < seen { high = Self.value(ofBucket: bucket); break }
        }
        guard let low, let high else { return nil }
        return low + (rank - Double(lower)) * (high - low)
    }

    /// Sparse pairs `bucket, count`, by bucket: the `integer[]` stored in `rm_compliance`.
    var pairs: [Int32] {
        counts.keys.sorted().flatMap { [$0, counts[$0]!] }
    }

    init(pairs: [Int32]) {
        var index = 0
        while index + 1 < pairs.count {
            add(bucket: pairs[index], count: pairs[index + 1])
            index += 2
        }
    }
}

/// What one ended clock adds to compliance, and the row of `rm_compliance` it adds to.
struct ComplianceKey: Hashable, Sendable {
    var agreementId: String
    var vendorId: String?
    var queue: String?
    var kind: String
    var month: String
    var priority: String
    var category: String
}

/// The figures of one `rm_compliance` row, or a change to them.
struct ComplianceFigures: Sendable, Equatable {
    var ended: Int32 = 0
    var met: Int32 = 0
    var breached: Int32 = 0
    /// Sums in whole microseconds, so that adding and subtracting in any order is exact.
    var calendarMicroseconds: Int64 = 0
    var businessMicroseconds: Int64 = 0
    var calendar = DurationHistogram()
    var business = DurationHistogram()

    /// Nothing at all: no counts, no histogram buckets and no time. (A clock re-resolved a
    /// little later within one batch changes only the sums.)
    var isZero: Bool {
        ended == 0 && met == 0 && breached == 0 && calendarMicroseconds == 0 && businessMicroseconds == 0
            && calendar.isEmpty && business.isEmpty
    }

    mutating func merge(_ other: ComplianceFigures, sign: Int32 = 1) {
        ended += sign * other.ended
        met += sign * other.met
        breached += sign * other.breached
        calendarMicroseconds += Int64(sign) * other.calendarMicroseconds
        businessMicroseconds += Int64(sign) * other.businessMicroseconds
        calendar.merge(other.calendar, sign: sign)
        business.merge(other.business, sign: sign)
    }
}

/// One clock as `rm_sla_clocks` stores it, reduced to what compliance needs.
struct EndedClock: Sendable {
    var agreementId: String?
    var vendorId: String?
    var queue: String?
    var kind: String
    var priority: String
    var category: String
    var status: String
    var startedAt: Date
    var stoppedAt: Date?
    var pausedSeconds: Double
    var elapsedSeconds: Double

    /// The row it counts in and what it adds there; nil unless it ended met or breached.
    ///
    /// Computed from the stored values (microsecond instants), so a clock read back from
    /// the table subtracts exactly what it added.
    var contribution: (ComplianceKey, ComplianceFigures)? {
        guard status == "met" || status == "breached", let stoppedAt else { return nil }
        let key = ComplianceKey(
            agreementId: agreementId ?? "customer", vendorId: vendorId, queue: queue, kind: kind,
            month: stoppedAt.utcMonth, priority: priority, category: category)
        let calendar = Double(stoppedAt.microsecondsSince1970 - startedAt.microsecondsSince1970) / 1_000_000 - pausedSeconds
        var figures = ComplianceFigures(
            ended: 1, met: status == "met" ? 1 : 0, breached: status == "breached" ? 1 : 0,
            calendarMicroseconds: Int64((calendar * 1_000_000).rounded()), businessMicroseconds: Int64((elapsedSeconds * 1_000_000).rounded()))
        figures.calendar.add(calendar)
        figures.business.add(elapsedSeconds)
        return (key, figures)
    }
}

extension EndedClock {
    /// The columns `rm_sla_clocks` rows are read back with, in `init(row:)`'s order.
    static let columns = """
        agreement_id, vendor_id, queue, kind, priority, category, status, started_at, stopped_at, paused_seconds, elapsed_seconds
        """

    init(row: PostgresRow) throws {
        agreementId = try row.decode(String?.self, at: 0)
        vendorId = try row.decode(String?.self, at: 1)
        queue = try row.decode(String?.self, at: 2)
        kind = try row.decode(String.self, at: 3)
        priority = try row.decode(String.self, at: 4)
        category = try row.decode(String.self, at: 5)
        status = try row.decode(String.self, at: 6)
        startedAt = try row.decode(Date.self, at: 7)
        stoppedAt = try row.decode(Date?.self, at: 8)
        pausedSeconds = try row.decode(Double.self, at: 9)
        elapsedSeconds = try row.decode(Double.self, at: 10)
    }
}

/// Changes to `rm_compliance`, gathered over a batch and written in one read and one upsert.
struct ComplianceChanges {
    private(set) var deltas: [ComplianceKey: ComplianceFigures] = [:]

    mutating func add(_ clock: EndedClock, sign: Int32 = 1) {
        guard let (key, figures) = clock.contribution else { return }
        deltas[key, default: ComplianceFigures()].merge(figures, sign: sign)
    }

    /// Adds the changes to the table's rows (read, added in memory, written back: the
    /// projection is the table's only writer, one batch at a time).
    func write(into table: String, in session: PostgresSession) throws {
        let changed = deltas.filter { !$0.value.isZero }
        guard !changed.isEmpty else { return }
        let keys = Array(changed.keys)
        var current: [ComplianceKey: ComplianceFigures] = [:]
        for row in try session.query("""
            SELECT \(unescaped: ComplianceRows.columns) FROM \(unescaped: table) c
            JOIN unnest(\(keys.map(\.agreementId))::text[], \(keys.map(\.vendorId))::text[], \(keys.map(\.queue))::text[],
                        \(keys.map(\.kind))::text[], \(keys.map(\.month))::text[], \(keys.map(\.priority))::text[],
                        \(keys.map(\.category))::text[]) AS k(\(unescaped: ComplianceRows.keyColumns))
              ON \(unescaped: ComplianceRows.sameKey)
            """) {
            let (key, figures) = try ComplianceRows.decode(row)
            current[key] = figures
        }
        var rows = ComplianceRows(), emptied = ComplianceRows()
        for key in keys {
            var figures = current[key] ?? ComplianceFigures()
            figures.merge(changed[key]!)
            if figures.isZero { emptied.append(key, figures) } else { rows.append(key, figures) }
        }
        try rows.upsert(into: table, in: session)
        try emptied.delete(from: table, in: session)
    }
}

/// Column arrays for one multi-row upsert into `rm_compliance`; the histograms travel as
/// one flat array sliced per row.
struct ComplianceRows {
    var agreementId: [String] = [], vendorId: [String?] = [], queue: [String?] = [], kind: [String] = []
    var month: [String] = [], priority: [String] = [], category: [String] = []
    var ended: [Int32] = [], met: [Int32] = [], breached: [Int32] = []
    var calendarMicroseconds: [Int64] = [], businessMicroseconds: [Int64] = []
    var histograms: [Int32] = [], calendarFrom: [Int32] = [], calendarTo: [Int32] = [], businessFrom: [Int32] = [], businessTo: [Int32] = []

    /// The key of a row, in the order of ``ComplianceKey``'s fields.
    static let keyColumns = "agreement_id, vendor_id, queue, kind, month, priority, category"

    /// Row `c` has key `k` (vendor and queue may be NULL).
    static let sameKey = """
        c.agreement_id = k.agreement_id AND c.vendor_id IS NOT DISTINCT FROM k.vendor_id \
        AND c.queue IS NOT DISTINCT FROM k.queue AND c.kind = k.kind AND c.month = k.month \
        AND c.priority = k.priority AND c.category = k.category
        """

    static let columns = """
        c.agreement_id, c.vendor_id, c.queue, c.kind, c.month, c.priority, c.category, c.ended, c.met, c.breached,
        c.calendar_microseconds, c.business_microseconds, c.calendar_histogram, c.business_histogram
        """

    static func decode(_ row: PostgresRow) throws -> (ComplianceKey, ComplianceFigures) {
        let key = ComplianceKey(
            agreementId: try row.decode(String.self, at: 0), vendorId: try row.decode(String?.self, at: 1),
            queue: try row.decode(String?.self, at: 2), kind: try row.decode(String.self, at: 3),
            month: try row.decode(String.self, at: 4), priority: try row.decode(String.self, at: 5),
            category: try row.decode(String.self, at: 6))
        let figures = ComplianceFigures(
            ended: try row.decode(Int32.self, at: 7), met: try row.decode(Int32.self, at: 8),
            breached: try row.decode(Int32.self, at: 9), calendarMicroseconds: try row.decode(Int64.self, at: 10),
            businessMicroseconds: try row.decode(Int64.self, at: 11),
            calendar: DurationHistogram(pairs: try row.decode([Int32].self, at: 12)),
            business: DurationHistogram(pairs: try row.decode([Int32].self, at: 13)))
        return (key, figures)
    }

    mutating func append(_ key: ComplianceKey, _ figures: ComplianceFigures) {
        agreementId.append(key.agreementId)
        vendorId.append(key.vendorId)
        queue.append(key.queue)
        kind.append(key.kind)
        month.append(key.month)
        priority.append(key.priority)
        category.append(key.category)
        ended.append(figures.ended)
        met.append(figures.met)
        breached.append(figures.breached)
        calendarMicroseconds.append(figures.calendarMicroseconds)
        businessMicroseconds.append(figures.businessMicroseconds)
        // PostgreSQL array slices are 1-based and inclusive; an empty one is [n+1:n].
        calendarFrom.append(Int32(histograms.count + 1))
        histograms += figures.calendar.pairs
        calendarTo.append(Int32(histograms.count))
        businessFrom.append(Int32(histograms.count + 1))
        histograms += figures.business.pairs
        businessTo.append(Int32(histograms.count))
    }

    /// Deletes the rows with these keys (whose figures came to nothing).
    func delete(from table: String, in session: PostgresSession) throws {
        guard !agreementId.isEmpty else { return }
        try session.execute("""
            DELETE FROM \(unescaped: table) c
            USING unnest(\(agreementId)::text[], \(vendorId)::text[], \(queue)::text[], \(kind)::text[], \(month)::text[],
                         \(priority)::text[], \(category)::text[]) AS k(\(unescaped: Self.keyColumns))
            WHERE \(unescaped: Self.sameKey)
            """)
    }

    func upsert(into table: String, in session: PostgresSession) throws {
        guard !agreementId.isEmpty else { return }
        try session.execute("""
            INSERT INTO \(unescaped: table) (
                agreement_id, vendor_id, queue, kind, month, priority, category, ended, met, breached,
                calendar_microseconds, business_microseconds, calendar_histogram, business_histogram)
            SELECT r.agreement_id, r.vendor_id, r.queue, r.kind, r.month, r.priority, r.category, r.ended, r.met, r.breached,
                   r.calendar_microseconds, r.business_microseconds,
                   COALESCE(h.flat[r.calendar_from:r.calendar_to], '{}'), COALESCE(h.flat[r.business_from:r.business_to], '{}')
            FROM unnest(
                \(agreementId)::text[], \(vendorId)::text[], \(queue)::text[], \(kind)::text[], \(month)::text[],
                \(priority)::text[], \(category)::text[], \(ended)::integer[], \(met)::integer[], \(breached)::integer[],
                \(calendarMicroseconds)::bigint[], \(businessMicroseconds)::bigint[], \(calendarFrom)::integer[], \(calendarTo)::integer[],
                \(businessFrom)::integer[], \(businessTo)::integer[])
                AS r(agreement_id, vendor_id, queue, kind, month, priority, category, ended, met, breached,
                     calendar_microseconds, business_microseconds, calendar_from, calendar_to, business_from, business_to),
                (SELECT \(histograms)::integer[] AS flat) AS h
            ON CONFLICT (agreement_id, vendor_id, queue, kind, month, priority, category) DO UPDATE SET
                ended = EXCLUDED.ended, met = EXCLUDED.met, breached = EXCLUDED.breached,
                calendar_microseconds = EXCLUDED.calendar_microseconds, business_microseconds = EXCLUDED.business_microseconds,
                calendar_histogram = EXCLUDED.calendar_histogram, business_histogram = EXCLUDED.business_histogram
            """)
    }
}

extension Date {
    /// `YYYY-MM` of the instant, in UTC, for years 0 to 9999 (days to civil date, Howard
    /// Hinnant's algorithm): the month a clock counts in, and routing's intake month.
    var utcMonth: String {
        let micros = microsecondsSince1970
        let days = micros >= 0 ? micros / 86_400_000_000 : (micros - 86_399_999_999) / 86_400_000_000
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let digits = Array("0123456789".utf8)
        var text = [UInt8](repeating: UInt8(ascii: "0"), count: 7)
        var y = Int(year)
        for i in (0..<4).reversed() {
            text[i] = digits[y % 10]
            y /= 10
        }
        text[4] = UInt8(ascii: "-")
        text[5] = digits[Int(month) / 10]
        text[6] = digits[Int(month) % 10]
        return String(decoding: text, as: UTF8.self)
    }
}
