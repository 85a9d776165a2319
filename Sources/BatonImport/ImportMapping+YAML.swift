import BatonDomain
import Foundation
import Yams

/// A mapping file could not be used. `problems` lists every problem found, each with its
/// path in the file, e.g. `states["Awaiting Vendor"].hold: "waiting" is not a hold reason; …`.
public struct ImportMappingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file, if read from disk.
    public var file: String?
    /// Every problem, with its path in the file and its line.
    public var problems: [ValidationProblem]

    /// Creates an error.
    public init(file: String?, problems: [ValidationProblem]) {
        self.file = file
        self.problems = problems
    }

    public var description: String {
        let head = "\(file ?? "mapping"): \(problems.count) problem\(problems.count == 1 ? "" : "s")"
        return ([head] + problems.map { "  \($0)" }).joined(separator: "\n")
    }
}

extension ImportMapping {
    /// Reads and validates a mapping file.
    /// - Throws: ``ImportMappingError`` listing every problem found.
    public static func load(contentsOf url: URL) throws(ImportMappingError) -> ImportMapping {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ImportMappingError(file: url.path, problems: [.init(path: "", message: "cannot read the file: \(error.localizedDescription)")])
        }
        return try parse(text, file: url.path)
    }

    /// Parses and validates a mapping document.
    ///
    /// ```yaml
    /// source: servicenow
    /// columns: { number: number, state: incident_state, updatedAt: sys_updated_at, group: assignment_group }
    /// time: { format: "dd-MM-yyyy HH:mm", zone: UTC }
    /// emptyValue: "?"
    /// states: { New: open, Awaiting User Info: { hold: awaiting-customer }, Resolved: resolved, Closed: closed }
    /// priorities: { "1 - Critical": P1 }
    /// impact: { "1 - High": high }
    /// urgency: { "1 - High": high }
    /// channels: { map: { Phone: phone }, default: import }
    /// categories: { map: { Category 45: help-desk }, default: other }
    /// queues: { map: { Group 70: service-desk }, default: service-desk }
    /// ```
    /// - Throws: ``ImportMappingError`` listing every problem found.
    public static func parse(_ yaml: String, file: String? = nil) throws(ImportMappingError) -> ImportMapping {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ImportMappingError(file: file, problems: [.init(path: "", message: "not valid YAML: \(error)")])
        }
        guard let root else { throw ImportMappingError(file: file, problems: [.init(path: "", message: "the file is empty")]) }
        let log = MappingProblems()
        let mapping = read(MappingNode(node: root, path: "", log: log))
        guard log.problems.isEmpty, let mapping else { throw ImportMappingError(file: file, problems: log.problems) }
        return mapping
    }

    private static let columnKeys = [
        "number", "state", "updatedAt", "modCount", "openedAt", "priority", "impact", "urgency", "category",
        "subcategory", "site", "department", "group", "requester", "openedBy", "updatedBy", "channel", "subject",
        "resolvedAt", "closedAt", "resolutionCode", "resolvedBy",
    ]

    private static func read(_ r: MappingNode) -> ImportMapping? {
        guard let top = r.mapping(allowed: [
            "source", "columns", "time", "emptyValue", "states", "priorities", "impact", "urgency", "channels",
            "categories", "queues",
        ]) else { return nil }

        let source = top.required("source", r)?.string()
        if let source, Actor(rawValue: "ingest:\(source)") == nil || source.contains(where: \.isWhitespace) {
            top["source"]?.problem("\"\(source)\" is not a usable source name; use letters, digits and dashes")
        }

        var columns: Columns?
        if let c = top.required("columns", r)?.mapping(allowed: columnKeys) {
            var names: [String: String] = [:]
            for (key, node) in c { if let name = node.string() { names[key] = name } }
            for key in ["number", "state", "updatedAt"] { _ = c.required(key, top["columns"]!) }
            if let number = names["number"], let state = names["state"], let updated = names["updatedAt"] {
                var cols = Columns(number: number, state: state, updatedAt: updated)
                cols.modCount = names["modCount"]; cols.openedAt = names["openedAt"]; cols.priority = names["priority"]
                cols.impact = names["impact"]; cols.urgency = names["urgency"]; cols.category = names["category"]
                cols.subcategory = names["subcategory"]; cols.site = names["site"]; cols.department = names["department"]
                cols.group = names["group"]; cols.requester = names["requester"]; cols.openedBy = names["openedBy"]
                cols.updatedBy = names["updatedBy"]; cols.channel = names["channel"]; cols.subject = names["subject"]
                cols.resolvedAt = names["resolvedAt"]; cols.closedAt = names["closedAt"]
                cols.resolutionCode = names["resolutionCode"]; cols.resolvedBy = names["resolvedBy"]
                columns = cols
            }
        }

        var format: String?
        var zone: TimeZone?
        if let t = top.required("time", r)?.mapping(allowed: ["format", "zone"]) {
            format = t.required("format", top["time"]!)?.string()
            if let z = t.required("zone", top["time"]!), let id = z.string() {
                zone = TimeZone(identifier: id)
                if zone == nil { z.problem("\"\(id)\" is not an IANA time zone, e.g. UTC or America/Chicago") }
            }
            if let f = format, let node = t["format"] {
                let probe = TimeParser(format: f, timeZone: zone ?? .gmt)
                let sample = Date(timeIntervalSince1970: 1_456_708_560)  // 2016-02-29 01:16 UTC
                if !["y", "M", "d", "H", "m"].allSatisfy(f.contains) || probe.instant(from: probe.text(for: sample)) != sample {
                    node.problem("\"\(f)\" is not a usable time pattern; it needs year, month, day, hour and minute, e.g. dd-MM-yyyy HH:mm")
                    format = nil
                }
            }
        }

        let empty = top["emptyValue"].flatMap { $0.text() }

        var states: [String: StateMeaning] = [:]
        if let s = top.required("states", r)?.entries() {
            if s.isEmpty { top["states"]?.problem("must list at least one state") }
            for (value, node) in s {
                if let meaning = stateMeaning(node) { states[value] = meaning }
            }
        }

        let priorities = top["priorities"]?.table(Priority.self) ?? [:]
        let impacts = top["impact"]?.table(Impact.self) ?? [:]
        let urgencies = top["urgency"]?.table(Urgency.self) ?? [:]
        let (channels, defaultChannel) = top["channels"]?.tableWithDefault(TicketChannel.self) ?? ([:], nil)
        let (categories, defaultCategory) = top["categories"]?.tableWithDefault(TicketCategory.self) ?? ([:], nil)

        var queues: [String: String] = [:]
        var defaultQueue: String?
        if let q = top.required("queues", r)?.mapping(allowed: ["map", "default"]) {
            defaultQueue = q.required("default", top["queues"]!)?.queueName()
            for (group, node) in q["map"]?.entries() ?? [] { if let name = node.queueName() { queues[group] = name } }
        }

        guard let source, let columns, let format, let zone, let defaultQueue else { return nil }
        return ImportMapping(
            source: source, columns: columns, timeFormat: format, timeZone: zone, emptyValue: empty, states: states,
            priorities: priorities, impacts: impacts, urgencies: urgencies, channels: channels,
            defaultChannel: defaultChannel ?? .import, categories: categories, defaultCategory: defaultCategory ?? .other,
            queues: queues, defaultQueue: defaultQueue)
    }

    private static func stateMeaning(_ node: MappingNode) -> StateMeaning? {
        let lifecycle = "use open, resolved, closed, or { hold: REASON }"
        if case .mapping = node.node {
            guard let m = node.mapping(allowed: ["hold"]) else { return nil }
            guard let h = m["hold"] else { node.problem("needs hold: REASON"); return nil }
            guard let text = h.string() else { return nil }
            guard let reason = HoldReason(rawValue: text) else {
                h.problem("\"\(text)\" is not a hold reason; use \(HoldReason.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            return .hold(reason)
        }
        guard let text = node.string() else { return nil }
        switch text {
        case "open": return .open
        case "resolved": return .resolved
        case "closed": return .closed
        default:
            if HoldReason(rawValue: text) != nil {
                node.problem("\"\(text)\" is a hold reason; write { hold: \(text) }")
            } else {
                node.problem("\"\(text)\" is not a state; \(lifecycle)")
            }
            return nil
        }
    }
}

/// Collects every problem found while reading a mapping.
private final class MappingProblems {
    var problems: [ValidationProblem] = []
}

/// A node of the mapping document with its path for messages; accessors report problems and
/// return nil so that reading goes on and finds them all.
private struct MappingNode {
    let node: Node
    let path: String
    let log: MappingProblems

    func problem(_ message: String) {
        log.problems.append(ValidationProblem(path: path, message: message, line: node.mark.map { $0.line }))
    }

    /// The entries of a mapping with plain keys, each child's path as `path["key"]`, in file order.
    func entries() -> [(String, MappingNode)]? {
        guard case .mapping(let m) = node else { problem("must be a mapping (value: meaning lines)"); return nil }
        var out: [(String, MappingNode)] = []
        for (k, v) in m {
            guard let key = k.string else { problem("keys must be plain text"); continue }
            out.append((key, MappingNode(node: v, path: "\(path)[\"\(key)\"]", log: log)))
        }
        return out
    }

    /// The entries of a mapping whose keys are field names, each child's path as `path.key`.
    func mapping(allowed: [String]) -> [String: MappingNode]? {
        guard case .mapping(let m) = node else { problem("must be a mapping (key: value lines)"); return nil }
        var out: [String: MappingNode] = [:]
        for (k, v) in m {
            guard let key = k.string else { problem("keys must be plain text"); continue }
            let child = MappingNode(node: v, path: path.isEmpty ? key : "\(path).\(key)", log: log)
            guard allowed.contains(key) else {
                child.problem("unknown key; expected one of \(allowed.joined(separator: ", "))")
                continue
            }
            out[key] = child
        }
        return out
    }

    /// The scalar's text as written.
    func text() -> String? {
        guard case .scalar(let s) = node else { problem("must be a single value"); return nil }
        return s.string
    }

    /// Non-empty text.
    func string() -> String? {
        guard let t = text() else { return nil }
        guard !t.trimmingCharacters(in: .whitespaces).isEmpty else { problem("must not be empty"); return nil }
        return t
    }

    func queueName() -> String? {
        guard let name = string() else { return nil }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            problem("\"\(name)\" is not a queue name; use letters, digits and dashes, e.g. service-desk")
            return nil
        }
        return name
    }

    func value<T: RawRepresentable & CaseIterable>(_ type: T.Type) -> T? where T.RawValue == String {
        guard let t = string() else { return nil }
        guard let v = T(rawValue: t) else {
            problem("\"\(t)\" is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return v
    }

    /// `source value: domain value` lines.
    func table<T: RawRepresentable & CaseIterable>(_ type: T.Type) -> [String: T] where T.RawValue == String {
        var out: [String: T] = [:]
        for (key, node) in entries() ?? [] { if let v = node.value(type) { out[key] = v } }
        return out
    }

    /// `{ map: { source value: domain value }, default: domain value }`.
    func tableWithDefault<T: RawRepresentable & CaseIterable>(_ type: T.Type) -> ([String: T], T?) where T.RawValue == String {
        guard let m = mapping(allowed: ["map", "default"]) else { return ([:], nil) }
        return (m["map"]?.table(type) ?? [:], m["default"]?.value(type))
    }
}

extension [String: MappingNode] {
    /// The child, or a problem on `parent` saying it is required.
    fileprivate func required(_ key: String, _ parent: MappingNode) -> MappingNode? {
        if let child = self[key] { return child }
        MappingNode(node: parent.node, path: parent.path.isEmpty ? key : "\(parent.path).\(key)", log: parent.log)
            .problem("is required")
        return nil
    }
}
