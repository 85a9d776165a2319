import BatonDomain
import Foundation
import Yams

/// Collects every problem found while reading a file.
final class ProblemLog {
    var problems: [ValidationProblem] = []
    func add(_ path: String, _ message: String, _ node: Node?) {
        problems.append(ValidationProblem(path: path, message: message, line: node?.mark?.line))
    }
}

/// A position in the YAML tree: the node, its path for messages, and the shared problem log.
/// Every accessor reports what is wrong and returns nil, so reading goes on and finds all problems.
struct YAMLReader {
    let node: Node?
    let path: String
    let log: ProblemLog

    func child(_ key: String, _ value: Node?) -> YAMLReader {
        YAMLReader(node: value, path: path.isEmpty ? key : "\(path).\(key)", log: log)
    }

    func problem(_ message: String) { log.add(path, message, node) }

    var isPresent: Bool {
        guard let node else { return false }
        if case .scalar(let s) = node, s.style == .plain, ["", "~", "null"].contains(s.string) { return false }
        return true
    }

    /// The mapping's entries, checking that only `allowed` keys occur.
    func mapping(allowed: [String]? = nil) -> [String: YAMLReader]? {
        guard let node else { return nil }
        guard case .mapping(let m) = node else {
            problem("must be a mapping (key: value lines)")
            return nil
        }
        var out: [String: YAMLReader] = [:]
        for (k, v) in m {
            guard let key = k.string, !key.utf8.contains(0) else {
                log.add(path, "keys must be plain text, without U+0000 (NUL)", k)
                continue
            }
            if let allowed, !allowed.contains(key) {
                let hint = allowed.min { distance($0, key) < distance($1, key) }.flatMap { distance($0, key) <= 3 ? $0 : nil }
                log.add(path.isEmpty ? key : "\(path).\(key)",
                        "unknown key" + (hint.map { "; did you mean \($0)?" } ?? "; expected one of \(allowed.joined(separator: ", "))"), k)
                continue
            }
            out[key] = child(key, v)
        }
        return out
    }

    /// The sequence's items.
    func sequence() -> [YAMLReader]? {
        guard let node else { return nil }
        guard case .sequence(let s) = node else {
            problem("must be a list")
            return nil
        }
        return s.enumerated().map { YAMLReader(node: $1, path: "\(path)[\($0)]", log: log) }
    }

    /// A list, also accepting a single scalar as a one-item list.
    func list() -> [YAMLReader]? {
        if case .scalar = node { return [self] }
        return sequence()
    }

    /// The scalar's text as written (no YAML type guessing: `08:00` stays `08:00`).
    ///
    /// Text holding U+0000 is refused: PostgreSQL's text cannot store it, and a queue or
    /// vendor named with one would stop the read models at the first ticket routed there.
    func text() -> String? {
        guard let node else { return nil }
        guard case .scalar(let s) = node else {
            problem("must be a single value")
            return nil
        }
        guard !s.string.utf8.contains(0) else {
            problem("must not hold U+0000 (NUL), which PostgreSQL cannot store")
            return nil
        }
        return s.string
    }

    func required(_ what: String = "a value") -> YAMLReader? {
        guard isPresent else {
            problem("is required (\(what))")
            return nil
        }
        return self
    }

    func string() -> String? {
        guard let t = text() else { return nil }
        guard !t.isEmpty else { problem("must not be empty"); return nil }
        return t
    }

    func int(min: Int? = nil) -> Int? {
        guard let t = text() else { return nil }
        guard let v = Int(t.replacingOccurrences(of: "_", with: "")) else { problem("\"\(t)\" is not a whole number"); return nil }
        if let min, v < min { problem("\(v) must be \(min) or more"); return nil }
        return v
    }

    func double() -> Double? {
        guard let t = text() else { return nil }
        var s = t.trimmingCharacters(in: .whitespaces)
        let percent = s.hasSuffix("%")
        if percent { s.removeLast() }
        guard let v = Double(s) else { problem("\"\(t)\" is not a number"); return nil }
        return percent ? v / 100 : v
    }

    /// A number in percent: `95%` and `95` are both 95, and `0.5` is half a percent.
    func percent() -> Double? {
        guard let t = text() else { return nil }
        var s = t.trimmingCharacters(in: .whitespaces)
        if s.hasSuffix("%") { s.removeLast() }
        guard let v = Double(s) else { problem("\"\(t)\" is not a number"); return nil }
        return v
    }

    func decimal() -> Decimal? {
        guard let t = text() else { return nil }
        guard let v = Decimal(string: t.replacingOccurrences(of: "_", with: ""), locale: Locale(identifier: "en_US_POSIX")) else {
            problem("\"\(t)\" is not an amount"); return nil
        }
        return v
    }

    func bool() -> Bool? {
        guard let t = text() else { return nil }
        switch t.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: problem("\"\(t)\" is not true or false"); return nil
        }
    }

    func oneOf<T: RawRepresentable & CaseIterable>(_ type: T.Type) -> T? where T.RawValue == String {
        guard let t = text() else { return nil }
        guard let v = T(rawValue: t) else {
            problem("\"\(t)\" is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return v
    }

    func duration() -> SLADuration? {
        guard let t = text() else { return nil }
        guard let d = SLADuration(t) else { problem("\"\(t)\" is not a duration; \(SLADuration.accepted)"); return nil }
        return d
    }

    func localDate() -> LocalDate? {
        guard let t = text() else { return nil }
        guard let d = LocalDate(t) else { problem("\"\(t)\" is not a date; use YYYY-MM-DD"); return nil }
        return d
    }

    /// A date (`2026-01-01`, midnight in `timeZone`) or an ISO 8601 timestamp.
    func instant(in calendar: BusinessCalendar?) -> Date? {
        guard let t = text() else { return nil }
        if let d = LocalDate(t) {
            let c = calendar ?? .twentyFourSeven()
            return c.instant(on: d, at: LocalTime(hour: 0)!)
        }
        if let d = try? Date(t, strategy: .iso8601) { return d }
        problem("\"\(t)\" is not a date; use YYYY-MM-DD or an ISO 8601 timestamp")
        return nil
    }
}

/// Levenshtein distance, for "did you mean" hints.
func distance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var row = Array(0...b.count)
    for i in 1...a.count {
        var previous = row[0]
        row[0] = i
        for j in 1...b.count {
            let old = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
            previous = old
        }
    }
    return row[b.count]
}
