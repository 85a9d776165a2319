@testable import BatonProjections
import Foundation
import Testing

@Suite("Compliance summaries add, subtract and read percentiles")
struct DurationHistogramTests {
    /// PostgreSQL's `percentile_cont`, over the exact values.
    func exactPercentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        let rank = p * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down)), upper = Int(rank.rounded(.up))
        return sorted[lower] + (rank - Double(lower)) * (sorted[upper] - sorted[lower])
    }

    @Test("the 50th, 90th and 99th percentiles are within 1% (or a second) of the exact ones", arguments: [1, 2, 7, 100, 5_000])
    func percentiles(count: Int) {
        var generator = SeededGenerator(seed: UInt64(count))
        let values = (0..<count).map { _ in
            // From under a second to a few weeks, most of them minutes to hours.
            exp(Double.random(in: -2...15, using: &generator))
        }
        var histogram = DurationHistogram()
        for value in values { histogram.add(value) }
        for p in [0.5, 0.9, 0.99] {
            let exact = exactPercentile(values, p)
            let estimate = histogram.percentile(p)!
            #expect(abs(estimate - exact) <= max(0.01 * exact, 1), "p\(p) of \(count): \(estimate) vs \(exact)")
        }
    }

    @Test("subtracting what was added leaves nothing; summaries merge in any order to the same result")
    func addAndSubtract() {
        var generator = SeededGenerator(seed: 7)
        let values = (0..<500).map { _ in Double.random(in: 0...200_000, using: &generator) }
        var forward = DurationHistogram(), backward = DurationHistogram()
        for value in values { forward.add(value) }
        for value in values.reversed() { backward.add(value) }
        #expect(forward == backward)
        #expect(forward.counts.values.reduce(0, +) == 500)
        var emptied = forward
        emptied.merge(backward, sign: -1)
        #expect(emptied.isEmpty)
        #expect(DurationHistogram(pairs: forward.pairs) == forward)
        #expect(DurationHistogram().percentile(0.9) == nil)
        // Durations under a second read as none: a clock that ran no business time.
        var none = DurationHistogram()
        for _ in 0..<3 { none.add(0) }
        #expect(none.percentile(0.9) == 0)
    }

    @Test("a clock counts in the UTC month in which it stopped")
    func months() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<2_000 {
            let instant = Date(timeIntervalSince1970: Double.random(in: -2_000_000_000...4_000_000_000, using: &generator).rounded())
            let parts = calendar.dateComponents([.year, .month], from: instant)
            #expect(instant.utcMonth == String(format: "%04d-%02d", parts.year!, parts.month!), "\(instant)")
        }
        // The last microsecond of a month, and the first of the next.
        let march = Date(timeIntervalSince1970: 1_772_323_200)  // 2026-03-01T00:00:00Z
        #expect(Date(microsecondsSince1970: march.microsecondsSince1970 - 1).utcMonth == "2026-02")
        #expect(march.utcMonth == "2026-03")
    }

    @Test("whole months inside a range, and none when the range covers only parts of months")
    func wholeMonths() throws {
        let march = Date(timeIntervalSince1970: 1_772_323_200), april = Date(timeIntervalSince1970: 1_775_001_600)
        let may = Date(timeIntervalSince1970: 1_777_593_600)
        let exact = try #require(ComplianceReports.wholeMonths(from: march, to: may))
        #expect(exact.0 == "2026-03" && exact.1 == "2026-04" && exact.2 == march && exact.3 == may)
        let inner = try #require(ComplianceReports.wholeMonths(from: march.addingTimeInterval(1), to: may.addingTimeInterval(1)))
        #expect(inner.0 == "2026-04" && inner.1 == "2026-04" && inner.2 == april && inner.3 == may)
        #expect(ComplianceReports.wholeMonths(from: march.addingTimeInterval(1), to: may.addingTimeInterval(-1)) == nil)
    }
}

/// SplitMix64: the same values on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Compliance changes within one batch")
struct ComplianceChangesTests {
    func clock(resolvedAfter seconds: Double) -> EndedClock {
        let start = Date(timeIntervalSince1970: 1_772_323_200)
        return EndedClock(
            agreementId: "northwind-helpdesk", vendorId: "northwind", queue: "northwind-l1", kind: "resolution",
            priority: "P3", category: "help-desk", status: "met", startedAt: start,
            stoppedAt: start.addingTimeInterval(seconds), pausedSeconds: 0, elapsedSeconds: seconds)
    }

    @Test("a clock resolved again a little later in one batch changes the sums though not the counts or buckets")
    func reResolvedWithinBucket() throws {
        var changes = ComplianceChanges()
        changes.add(clock(resolvedAfter: 3_600), sign: -1)
        changes.add(clock(resolvedAfter: 3_610))  // the same 2% bucket
        let delta = try #require(changes.deltas.values.first)
        #expect(delta.ended == 0 && delta.calendar.isEmpty && delta.business.isEmpty)
        #expect(delta.calendarMicroseconds == 10_000_000 && delta.businessMicroseconds == 10_000_000)
        #expect(!delta.isZero)
        var undone = ComplianceChanges()
        undone.add(clock(resolvedAfter: 3_600), sign: -1)
        undone.add(clock(resolvedAfter: 3_600))
        let nothing = undone.deltas.values.allSatisfy { $0.isZero }
        #expect(nothing)
    }
}
