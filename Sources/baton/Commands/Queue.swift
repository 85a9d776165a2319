import ArgumentParser
import BatonAPI
import BatonTerminal
import Foundation

struct Queue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The work list, most urgent first.",
        discussion: """
            Number, priority, status, age, SLA time left (green; amber past the first warning;
            red when breached or past due), holder and subject, fitted to the terminal's width.
            Without a queue: an agent's in-house queues; a vendor's own queues; everything for
            auditors.

            Examples:
              baton queue service-desk
              baton queue --priority P1 --priority P2 --breached
              baton queue --mine -o csv > mine.csv
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The queue (default: your queues).")
    var queue: String?

    @Option(help: "Only tickets in this state (repeatable): open, unassigned, queued, accepted, in-progress, on-hold, resolved, closed, cancelled. Default: open.")
    var state: [String] = []

    @Option(help: "Only this priority (repeatable): P1 … P5.")
    var priority: [String] = []

    @Flag(help: "Only tickets with a breached or overdue clock.")
    var breached = false

    @Flag(help: "Only tickets you lease or accepted.")
    var mine = false

    @Option(help: "The most tickets to show (1 to 500).")
    var limit = 100

    func run() async {
        await perform {
            let tickets = try await fetch()
            try Self.print(tickets, format: connection.output, terminal: connection.terminal, now: Date())
        }
    }

    func fetch() async throws -> [Components.Schemas.TicketSummary] {
        let states = try (state.isEmpty ? ["open"] : state).map { text in
            guard let s = Operations.ListTickets.Input.Query.StatePayloadPayload(rawValue: text) else {
                throw Failure(.usage, "--state: \"\(text)\" is not one of \(Operations.ListTickets.Input.Query.StatePayloadPayload.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return s
        }
        let priorities = try priority.map { text in
            guard let p = Operations.ListTickets.Input.Query.PriorityPayloadPayload(rawValue: text.uppercased()) else {
                throw Failure(.usage, "--priority: \"\(text)\" is not one of P1, P2, P3, P4, P5")
            }
            return p
        }
        guard (1...500).contains(limit) else { throw Failure(.usage, "--limit: \(limit) is not between 1 and 500") }
        let query = Operations.ListTickets.Input.Query(
            queue: try await queues(), state: states, priority: priorities.isEmpty ? nil : priorities, breached: breached ? true : nil,
            mine: mine ? true : nil, limit: limit)
        switch try await connection.client().listTickets(query: query) {
        case .ok(let ok): return try ok.body.json.tickets
        case .default(let status, let problem): throw Failure(status: status, problem: try problem.body.applicationProblemJson)
        }
    }

    /// The queue asked for; else, for agents and admins, the in-house queues (a vendor's
    /// list is limited to its own queues by the server, an auditor's is everything).
    func queues() async throws -> [String]? {
        if let queue { return [queue] }
        let client = try connection.client()
        guard case .ok(let me) = try await client.whoami(), [.agent, .admin].contains(try me.body.json.role) else { return nil }
        switch try await client.listAgreements() {
        case .ok(let ok):
            var queues: [String] = []
            for a in try ok.body.json.agreements where a.kind == .inHouse {
                for q in a.queues where !queues.contains(q) { queues.append(q) }
            }
            return queues.isEmpty ? nil : queues
        case .default: return nil
        }
    }

    static func print(_ tickets: [Components.Schemas.TicketSummary], format: ConnectionOptions.OutputFormat, terminal: Terminal, now: Date) throws {
        switch format {
        case .json:
            try printJSON(tickets)
        case .csv:
            var lines = ["number,priority,status,queue,opened_at,next_due_at,breached,holder,subject"]
            for t in tickets {
                lines.append([t.number, t.priority, t.status, t.queue ?? "", Timeline.format(t.openedAt), t.nextDueAt.map(Timeline.format) ?? "",
                              t.breached ? "true" : "false", t.leaseHolder ?? t.assignee ?? "", t.subject].map(csvField).joined(separator: ","))
            }
            Swift.print(lines.joined(separator: "\r\n"), terminator: "\r\n")
        case .text:
            guard !tickets.isEmpty else {
                Swift.print("nothing to do")
                return
            }
            Swift.print(table(tickets, now: now).render(width: terminal.width, colour: terminal.colour), terminator: "")
        }
    }

    static func table(_ tickets: [Components.Schemas.TicketSummary], now: Date) -> Table {
        var table = Table(header: ["NUMBER", "PRI", "STATUS", "AGE", "SLA LEFT", "HOLDER", "QUEUE", "SUBJECT"], flexibleColumn: 7)
        for t in tickets {
            table.append([
                Cell(t.number), Cell(t.priority, t.priority == "P1" ? .bold : .plain), Cell(t.status),
                Cell(relativeTime(t.openedAt, now: now).replacingOccurrences(of: " ago", with: "")),
                slaCell(t, now: now), Cell(t.leaseHolder ?? t.assignee ?? ""), Cell(t.queue ?? "", .dim), Cell(t.subject),
            ])
        }
        return table
    }

    /// The time left on the clock that falls due first: red when breached or past due, amber
    /// past its first warning, green otherwise.
    static func slaCell(_ t: Components.Schemas.TicketSummary, now: Date) -> Cell {
        guard let due = t.nextDueAt else { return Cell(t.breached ? "breached" : "-", t.breached ? .red : .dim) }
        let text = relativeTime(due, now: now)
        if t.breached || due <= now { return Cell(text, .red) }
        if let warning = t.nextWarningAt, warning <= now { return Cell(text, .amber) }
        return Cell(text, .green)
    }
}

func csvField(_ value: String) -> String {
    guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
    return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
