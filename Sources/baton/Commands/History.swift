import ArgumentParser
import BatonAPI
import Foundation

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a ticket's events, oldest first.",
        discussion: "Examples:\n  baton history T-1042\n  baton history T-1042 --until 2026-11-02T09:00:00Z -o json")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The ticket number, T-1042 or 1042.")
    var number: String

    @Option(help: "Only events that occurred at or before this instant (RFC 3339).")
    var until: String?

    func run() async {
        await perform {
            let moment = try instant(until, option: "--until")
            switch try await connection.client().getTicketEvents(path: .init(number: number), query: .init(until: moment)) {
            case .ok(let ok):
                let events = try ok.body.json.events
                if connection.output == .json { try printJSON(events) } else { Timeline.print(events) }
            case .default(let status, let problem):
                throw Failure(status: status, problem: try problem.body.applicationProblemJson)
            }
        }
    }
}
