import Foundation

/// A precomputed table of a time zone's UTC offsets, so that converting between UTC and local
/// wall time is a binary search instead of a call into ICU.
///
/// Covers 1970 to 2100 exactly (outside that range the nearest known offset is used).
/// Immutable after `init`, hence `Sendable`.
final class TimeZoneOffsets: Sendable {
    let identifier: String
    /// UTC instants (seconds since 1970) at which a new offset starts; ascending.
    let transitions: [Int]
    /// `offsets[i]` is in force on `[transitions[i-1], transitions[i])`; one more than `transitions`.
    let offsets: [Int]
    /// Local-time range of segment `i` in which every wall time maps to exactly one instant.
    let safeLocalStart: [Int]
    let safeLocalEnd: [Int]

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: TimeZoneOffsets] = [:]

    /// The shared table for a time zone (built once per identifier; guarded by `lock`).
    static func table(for timeZone: TimeZone) -> TimeZoneOffsets {
        lock.lock()
        defer { lock.unlock() }
        if let t = cache[timeZone.identifier] { return t }
        let t = TimeZoneOffsets(timeZone)
        cache[timeZone.identifier] = t
        return t
    }

    private init(_ tz: TimeZone) {
        identifier = tz.identifier
        let start = Date(timeIntervalSince1970: 0)
        let end = Date(timeIntervalSince1970: 4_102_444_800)  // 2100-01-01
        var transitions: [Int] = []
        var offsets: [Int] = [tz.secondsFromGMT(for: start)]
        var cursor = start
        while let next = tz.nextDaylightSavingTimeTransition(after: cursor), next < end {
            let t = Int(next.timeIntervalSince1970.rounded())
            let o = tz.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t)))
            if o != offsets[offsets.count - 1] {
                transitions.append(t)
                offsets.append(o)
            }
            cursor = Date(timeIntervalSince1970: Double(t) + 1)
        }
        self.transitions = transitions
        self.offsets = offsets
        var ss: [Int] = []
        var se: [Int] = []
        for i in offsets.indices {
            let o = offsets[i]
            let lo = i == 0 ? Int.min / 2 : transitions[i - 1] + max(o, offsets[i - 1])
            let hi = i == transitions.count ? Int.max / 2 : transitions[i] + min(o, offsets[i + 1])
            ss.append(lo)
            se.append(hi)
        }
        safeLocalStart = ss
        safeLocalEnd = se
    }

    /// Index of the segment that contains the UTC instant.
    @inline(__always)
    func segment(atUTC u: Int) -> Int {
        var lo = 0
        var hi = transitions.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if transitions[mid] <= u { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// UTC offset in seconds at a UTC instant.
    @inline(__always)
    func offset(atUTC u: Double) -> Int {
        offsets[segment(atUTC: Int(u.rounded(.down)))]
    }

    /// The instant of a local wall time. Wall times that occur twice (autumn) map to the first
    /// occurrence; wall times that do not exist (spring) map to the transition instant.
    func utc(fromLocal l: Int) -> Int {
        let guess = segment(atUTC: l - offsets[segment(atUTC: l)])
        let lo = max(0, guess - 1)
        let hi = min(offsets.count - 1, guess + 1)
        for j in lo...hi {
            let o = offsets[j]
            let segStart = j == 0 ? Int.min / 2 : transitions[j - 1]
            let segEnd = j == transitions.count ? Int.max / 2 : transitions[j]
            if l - o >= segStart && l - o < segEnd { return l - o }
        }
        // In a gap: the wall time was skipped; the first instant after it is the transition.
        for j in lo..<hi where l >= transitions[j] + offsets[j] && l < transitions[j] + offsets[j + 1] {
            return transitions[j]
        }
        return l - offsets[guess]
    }
}
