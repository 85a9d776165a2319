import BatonDomain
import Foundation

/// Turns an exported incident log into ticket histories: reads and groups the rows
/// (``incidents(in:mapping:)``), then replays one incident's updates through
/// `TicketDecider` with their original instants and actors (``events(for:ticketId:number:mapping:decider:)``).
///
/// Pure and deterministic: no clock, no ids generated, no database. The caller supplies the
/// ticket id and number and appends the returned events to the ticket's stream.
public enum IncidentReplay {
    /// Reads a CSV export and groups its rows by incident number.
    ///
    /// Incidents come in the order their first row appears; each incident's rows are ordered
    /// by update time, then update counter, then line, so interleaved or unsorted exports work.
    /// The file is read a record at a time, but every incident's mapped fields are kept until
    /// the end (rows of one incident may be anywhere in the file).
    /// - Throws: ``ImportError`` for an unreadable or malformed file, a mapped column missing
    ///   from the header, or a time or number that does not parse (naming the line).
    public static func incidents(in file: URL, mapping: ImportMapping) throws(ImportError) -> [IncidentHistory] {
        let reader: CSVReader
        do {
            reader = try CSVReader(contentsOf: file)
        } catch {
            throw ImportError(code: .malformedCSV, line: error.line, message: "\(file.lastPathComponent): \(error.message)")
        }
        return try incidents(from: reader, mapping: mapping)
    }

    /// Reads the remaining records of `reader` and groups them by incident; see ``incidents(in:mapping:)``.
    public static func incidents(from reader: CSVReader, mapping: ImportMapping) throws(ImportError) -> [IncidentHistory] {
        let columns = try ColumnIndexes(header: reader.header, mapping: mapping)
        let times = TimeParser(format: mapping.timeFormat, timeZone: mapping.timeZone)
        var order: [String] = []
        var rows: [String: [IncidentRow]] = [:]
        while true {
            let record: CSVRecord?
            do {
                record = try reader.next()
            } catch {
                throw ImportError(code: .malformedCSV, line: error.line, message: error.message)
            }
            guard let record else { break }
            let (number, row) = try columns.row(record, mapping: mapping, times: times)
            if rows[number] == nil { order.append(number) }
            rows[number, default: []].append(row)
        }
        return order.map { IncidentHistory(number: $0, rows: rows[$0]!) }
    }

    /// Replays one incident as ticket events, decided one command at a time by `decider` and
    /// folded with `TicketDecider.evolve`, so `TicketDecider.fold(result)` is the ticket's state.
    ///
    /// The commands: `open` (at the opened-at time, by the opener) and `route` to the first
    /// group's queue (same instant, by `ingest:<source>`); then, for each row, by the row's
    /// updater (`agent:<updated by>`, else `ingest:<source>`) at the row's update time:
    /// - `reopen` when a resolved incident becomes open or on hold again;
    /// - `changePriority` when the priority differs from the ticket's;
    /// - `reassign` when the group maps to another queue than the ticket's (a ticket on hold is
    ///   resumed first, because the domain does not move tickets on hold; the hold is re-entered
    ///   when the row is still in an Awaiting state);
    /// - `hold` on entering an Awaiting state (`resume` + `hold` when the reason changes),
    ///   `resume` on leaving it for an open state, `resolve` on Resolved, `resolve` (if needed)
    ///   and `close` on Closed.
    ///
    /// Empty fields change nothing. Priority and group changes on a resolved or closed incident
    /// cannot be recorded by the domain and are skipped (a later reopen picks them up). Instants
    /// never go backwards: an update time earlier than the previous event is raised to it.
    /// Rows that change nothing produce no events.
    ///
    /// - Parameters:
    ///   - incident: the incident's rows, oldest first.
    ///   - ticketId: the new ticket's stream id.
    ///   - number: the new ticket's short number, e.g. `T-1042`.
    ///   - mapping: how to translate the source's values.
    ///   - decider: the decider (its priority matrix derives a priority when the file has none).
    /// - Throws: ``ImportError`` naming the incident and line when a value is not in the mapping
    ///   (``ImportError/Code/invalidValue``) or the domain refuses a command (``ImportError/Code/notReplayable``).
    public static func events(
        for incident: IncidentHistory, ticketId: UUID, number: String, mapping: ImportMapping,
        decider: TicketDecider = TicketDecider()
    ) throws(ImportError) -> [Stamped<TicketEvent>] {
        var replay = Replay(incident: incident, mapping: mapping, decider: decider)
        try replay.run(ticketId: ticketId, number: number)
        return replay.events
    }
}

/// The state of one replay: the ticket so far and the events decided.
private struct Replay {
    let incident: IncidentHistory
    let mapping: ImportMapping
    let decider: TicketDecider
    let importer: Actor
    var ticket: Ticket?
    var events: [Stamped<TicketEvent>] = []
    var clock = Date.distantPast
    var closedAtLine: Int?

    init(incident: IncidentHistory, mapping: ImportMapping, decider: TicketDecider) {
        self.incident = incident
        self.mapping = mapping
        self.decider = decider
        importer = .ingest(mapping.source)
    }

    func fail(_ line: Int, _ message: String) -> ImportError {
        ImportError(code: .invalidValue, incident: incident.number, line: line, message: message)
    }

    /// Decides `command` at `instant` (raised to the last event's instant) and folds the events.
    mutating func apply(_ command: TicketCommand, by actor: Actor, at instant: Date, line: Int) throws(ImportError) {
        clock = max(clock, instant)
        do {
            for event in try decider.decide(command, state: ticket, by: actor, at: clock) {
                ticket = TicketDecider.evolve(ticket, event)
                events.append(event)
            }
        } catch {
            throw ImportError(code: .notReplayable, incident: incident.number, line: line,
                              message: "cannot replay the row: \(error)", ticketError: error)
        }
    }

    func person(_ name: String?) -> Actor {
        name.flatMap { Actor(rawValue: "agent:\($0)") } ?? importer
    }

    func meaning(of row: IncidentRow) throws(ImportError) -> ImportMapping.StateMeaning {
        guard let meaning = mapping.states[row.state] else {
            throw fail(row.line, "state \"\(row.state)\" is not in the mapping's states; add it (open, resolved, closed or { hold: REASON })")
        }
        return meaning
    }

    func priority(of row: IncidentRow) throws(ImportError) -> Priority? {
        guard let value = row.priority else { return nil }
        guard let p = mapping.priorities[value] else {
            throw fail(row.line, "priority \"\(value)\" is not in the mapping's priorities")
        }
        return p
    }

    mutating func run(ticketId: UUID, number: String) throws(ImportError) {
        guard let first = incident.rows.first else {
            throw ImportError(code: .invalidValue, incident: incident.number, message: "the incident has no rows")
        }
        func lookup<T>(_ value: String?, _ table: [String: T], _ what: String, default d: T) throws(ImportError) -> T {
            guard let value else { return d }
            guard let v = table[value] else { throw fail(first.line, "\(what) \"\(value)\" is not in the mapping's \(what)") }
            return v
        }
        let details = TicketDetails(
            source: mapping.source, externalReference: incident.number,
            requester: first.requester ?? "unknown", site: first.site, department: first.department,
            category: mapping.category(for: first.category), subcategory: first.subcategory,
            impact: try lookup(first.impact, mapping.impacts, "impact", default: .medium),
            urgency: try lookup(first.urgency, mapping.urgencies, "urgency", default: .medium),
            subject: first.subject ?? "\(mapping.source) incident \(incident.number)",
            description: "", channel: mapping.channel(for: first.channel))
        let openedAt = first.openedAt ?? first.updatedAt
        let open = OpenTicket(ticketId: ticketId, number: number, details: details, priority: try priority(of: first))
        try apply(.open(open), by: person(first.openedBy), at: openedAt, line: first.line)
        let queue = mapping.queue(forGroup: first.group)
        let decision = RoutingDecision(
            assignment: QueueAssignment(queue: queue), considerations: [],
            placementReason: "imported from \(mapping.source), where it was first assigned to \(first.group.map { "group \"\($0)\"" } ?? "no group")")
        try apply(.route(decision, cause: .imported), by: importer, at: openedAt, line: first.line)

        for row in incident.rows { try replay(row) }
    }

    mutating func replay(_ row: IncidentRow) throws(ImportError) {
        let target = try meaning(of: row)
        let actor = person(row.updatedBy)
        let at = row.updatedAt
        let line = row.line
        var status: TicketStatus { ticket!.status }

        if let closed = closedAtLine {
            guard target == .closed else {
                throw ImportError(code: .notReplayable, incident: incident.number, line: line,
                                  message: "the incident was closed at line \(closed), but this row says \"\(row.state)\"")
            }
            return
        }

        if status == .resolved, target != .resolved, target != .closed {
            try apply(.reopen(reason: "\(row.state) in \(mapping.source)"), by: actor, at: at, line: line)
        }
        let active = status != .resolved && status != .closed

        if active, let p = try priority(of: row), p != ticket!.priority {
            try apply(.changePriority(p, reason: "\(row.priority!) in \(mapping.source)"), by: actor, at: at, line: line)
        }

        if active, let group = row.group {
            let queue = mapping.queue(forGroup: group)
            if queue != ticket!.assignment?.placement.queue {
                if status == .onHold { try apply(.resume, by: actor, at: at, line: line) }
                try apply(.reassign(QueueAssignment(queue: queue), reason: "assignment group \(group) in \(mapping.source)"),
                          by: actor, at: at, line: line)
            }
        }

        switch target {
        case .open:
            if status == .onHold { try apply(.resume, by: actor, at: at, line: line) }
        case .hold(let reason):
            if status == .onHold, ticket!.hold?.reason == reason { break }
            if status == .onHold { try apply(.resume, by: actor, at: at, line: line) }
            try apply(.hold(reason, note: row.state), by: actor, at: at, line: line)
        case .resolved:
            if status != .resolved { try resolve(row, by: actor) }
        case .closed:
            if status != .resolved { try resolve(row, by: actor) }
            let closedAt = row.closedAt.flatMap { $0 >= clock && $0 <= at ? $0 : nil } ?? at
            try apply(.close, by: actor, at: closedAt, line: line)
            closedAtLine = line
        }
    }

    /// Resolves at the row's resolved-at time when it lies between the last event and the row.
    mutating func resolve(_ row: IncidentRow, by actor: Actor) throws(ImportError) {
        let at = row.resolvedAt.flatMap { $0 >= clock && $0 <= row.updatedAt ? $0 : nil } ?? row.updatedAt
        let note = "\(row.state) in \(mapping.source)" + (row.resolvedBy.map { " (\(mapping.columns.resolvedBy ?? "resolvedBy"): \($0))" } ?? "")
        try apply(.resolve(code: row.resolutionCode ?? "imported", note: note), by: actor, at: at, line: row.line)
    }
}

/// Where each mapped column is in the file.
private struct ColumnIndexes {
    var indexes: [String: Int] = [:]
    var names: [String: String] = [:]

    init(header: [String], mapping: ImportMapping) throws(ImportError) {
        var missing: [String] = []
        for (key, column) in mapping.columns.all {
            names[key] = column
            if let i = header.firstIndex(of: column) { indexes[key] = i } else { missing.append("columns.\(key): \"\(column)\"") }
        }
        guard missing.isEmpty else {
            throw ImportError(code: .missingColumn, line: 1, message: "the header lacks mapped column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")); the file's columns are \(header.joined(separator: ", "))")
        }
    }

    func row(_ record: CSVRecord, mapping: ImportMapping, times: TimeParser) throws(ImportError) -> (String, IncidentRow) {
        func text(_ key: String) -> String? { indexes[key].flatMap { mapping.value(record.fields[$0]) } }
        func required(_ key: String) throws(ImportError) -> String {
            guard let v = text(key) else {
                throw ImportError(code: .invalidValue, line: record.line, message: "\(key) (column \"\(names[key] ?? key)\") is empty")
            }
            return v
        }
        func time(_ key: String) throws(ImportError) -> Date? {
            guard let t = text(key) else { return nil }
            guard let d = times.instant(from: t) else {
                throw ImportError(code: .invalidValue, line: record.line,
                                  message: "\(key) \"\(t)\" is not a time in the format \(mapping.timeFormat)")
            }
            return d
        }
        // PostgreSQL's text cannot hold U+0000: refused here, naming the place, rather than
        // by the database in the middle of the import.
        for (key, index) in indexes.sorted(by: { $0.value < $1.value }) where record.fields[index].unicodeScalars.contains("\u{0}") {
            throw ImportError(code: .invalidValue, line: record.line,
                              message: "\(key) (column \"\(names[key] ?? key)\") holds U+0000, which text cannot hold")
        }
        let number = try required("number")
        let state = try required("state")
        guard let updated = try time("updatedAt") else {
            throw ImportError(code: .invalidValue, incident: number, line: record.line, message: "updatedAt is empty")
        }
        var row = IncidentRow(line: record.line, state: state, updatedAt: updated)
        if let m = text("modCount") {
            guard let n = Int(m) else {
                throw ImportError(code: .invalidValue, incident: number, line: record.line, message: "modCount \"\(m)\" is not a whole number")
            }
            row.modCount = n
        }
        row.openedAt = try time("openedAt")
        row.priority = text("priority"); row.impact = text("impact"); row.urgency = text("urgency")
        row.category = text("category"); row.subcategory = text("subcategory"); row.site = text("site")
        row.department = text("department"); row.group = text("group"); row.requester = text("requester")
        row.openedBy = text("openedBy"); row.updatedBy = text("updatedBy"); row.channel = text("channel")
        row.subject = text("subject"); row.resolvedAt = try time("resolvedAt"); row.closedAt = try time("closedAt")
        row.resolutionCode = text("resolutionCode"); row.resolvedBy = text("resolvedBy")
        return (number, row)
    }
}
