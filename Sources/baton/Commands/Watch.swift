import ArgumentParser
import BatonAPI
import BatonTerminal
import Foundation

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A live view of a queue, redrawn as its tickets change, until Ctrl-C.",
        discussion: "Example:\n  baton watch service-desk")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The queue (default: every queue you can see).")
    var queue: String?

    func run() async {
        await perform {
            var list = try Queue.parse(queue.map { [$0] } ?? [])
            list.connection = connection
            let client = try connection.client()
            // Start the feed at its end: only what happens from now redraws.
            var cursor: String?
            while true {
                switch try await client.getFeed(query: .init(after: cursor, limit: 1000, wait: cursor == nil ? 0 : 25)) {
                case .ok(let ok):
                    let page = try ok.body.json
                    let first = cursor == nil
                    cursor = page.nextCursor
                    if first || !page.entries.isEmpty {
                        let terminal = connection.terminal
                        if terminal.colour { print("\u{1B}[2J\u{1B}[H", terminator: "") }
                        print("\(queue ?? "all queues") at \(Timeline.format(Date()))  (Ctrl-C to stop)\n")
                        try Queue.print(try await list.fetch(), format: .text, terminal: terminal, now: Date())
                        fflush(nil)  // into a pipe or file too, before the next wait
                    }
                case .default(let status, let problem):
                    throw Failure(status: status, problem: try problem.body.applicationProblemJson)
                }
            }
        }
    }
}
