import ArgumentParser
import BatonAPI
import BatonTerminal
import Foundation

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a ticket and its timeline.",
        discussion: "Examples:\n  baton show T-1042\n  baton show 1042 --as-of 2026-11-02T09:00:00Z")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The ticket number, T-1042 or 1042.")
    var number: String

    @Option(name: .customLong("as-of"), help: "Show the ticket as it stood at this instant (RFC 3339).")
    var asOf: String?

    func run() async {
        await perform {
            let moment = try instant(asOf, option: "--as-of")
            let client = try connection.client()
            let ticket: Components.Schemas.Ticket
            switch try await client.getTicket(path: .init(number: number), query: .init(asOf: moment)) {
            case .ok(let ok): ticket = try ok.body.json
            case .default(let status, let problem): throw Failure(status: status, problem: try problem.body.applicationProblemJson)
            }
            let events: [Components.Schemas.TicketEvent]
            switch try await client.getTicketEvents(path: .init(number: number), query: .init(until: moment)) {
            case .ok(let ok): events = try ok.body.json.events
            case .default(let status, let problem): throw Failure(status: status, problem: try problem.body.applicationProblemJson)
            }
            if connection.output == .json {
                struct Shown: Encodable { var ticket: Components.Schemas.Ticket; var events: [Components.Schemas.TicketEvent] }
                try printJSON(Shown(ticket: ticket, events: events))
                return
            }
            print("\(ticket.number)  \(ticket.priority.rawValue)  \(ticket.status.rawValue)  \(ticket.queue ?? "no queue")")
            print(ticket.subject)
            print("opened \(Timeline.format(ticket.openedAt)) by \(ticket.requester) via \(ticket.source)\(ticket.externalReference.map { " (\($0))" } ?? "")")
            if let holder = ticket.leaseHolder, let until = ticket.leaseExpiresAt { print("leased by \(holder) until \(Timeline.format(until))") }
            if let reason = ticket.holdReason { print("on hold: \(reason)") }
            if let clocks = ticket.clocks, !clocks.isEmpty {
                print("")
                let terminal = connection.terminal
                let now = moment ?? Date()
                var table = Table(header: ["CLOCK", "PRI", "STATUS", "DUE", "LEFT", "PAUSED"])
                for c in clocks {
                    let left: Cell
                    switch (c.status, c.dueAt) {
                    case (.running, let due?), (.paused, let due?):
                        left = Cell(relativeTime(due, now: now), due <= now ? .red : .green)
                    case (.breached, _): left = Cell("breached", .red)
                    case (.met, _): left = Cell("met", .green)
                    default: left = Cell("-", .dim)
                    }
                    table.append([Cell(c.id), Cell(c.priority), Cell(c.status.rawValue), Cell(c.dueAt.map(Timeline.format) ?? "-"), left,
                                  Cell((c.pausedMinutes ?? 0) > 0 ? minutes(c.pausedMinutes ?? 0) : "-")])
                }
                print(table.render(width: terminal.width, colour: terminal.colour), terminator: "")
            }
            print("")
            Timeline.print(events)
        }
    }
}

/// The timeline of a ticket's events, one line each.
enum Timeline {
    static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon)) + "Z"
    }

    static func print(_ events: [Components.Schemas.TicketEvent]) {
        let width = events.map(\._type.count).max() ?? 0
        for event in events {
            Swift.print("\(format(event.occurredAt))  \(event._type.padding(toLength: width, withPad: " ", startingAt: 0))  \(event.actor)")
        }
    }
}
