import ArgumentParser
import BatonAPI
import Foundation

struct Next: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lease the most urgent ticket of a queue and show it.",
        discussion: """
            Examples:
              baton next
              baton next service-desk --wait 30
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The queue (default: all of yours).")
    var queue: String?

    @Option(help: "Seconds to wait for a ticket when none is there now (0 to 30).")
    var wait = 0

    func run() async {
        await perform {
            guard (0...30).contains(wait) else { throw Failure(.usage, "--wait: \(wait) is not between 0 and 30") }
            let client = try connection.client()
            let leased: [Components.Schemas.Ticket]
            switch try await client.leaseTickets(body: .json(.init(queue: queue, max: 1, wait: wait))) {
            case .ok(let ok): leased = try ok.body.json.leases
            case .default(let status, let problem): throw Failure(status: status, problem: try problem.body.applicationProblemJson)
            }
            guard let ticket = leased.first else {
                if connection.output == .json { try printJSON([Components.Schemas.Ticket]()) } else { print("nothing to do\(queue.map { " in \($0)" } ?? "")") }
                return
            }
            if connection.output == .json {
                try printJSON(ticket)
                return
            }
            print("leased \(ticket.number) until \(ticket.leaseExpiresAt.map(Timeline.format) ?? "?")")
            print("\(ticket.number)  \(ticket.priority.rawValue)  \(ticket.status.rawValue)  \(ticket.queue ?? "no queue")")
            print(ticket.subject)
            if let description = ticket.description, !description.isEmpty { print(description) }
            print("opened \(Timeline.format(ticket.openedAt)) by \(ticket.requester)")
        }
    }
}
