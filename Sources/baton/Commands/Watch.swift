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
            // Skip to the feed's end without drawing: only what happens from now redraws.
            var cursor: String?
            while true {
                guard case .ok(let ok) = try await client.getFeed(query: .init(after: cursor, limit: 1000, wait: 0)) else { break }
                let page = try ok.body.json
                cursor = page.nextCursor
                if page.entries.count < 1000 { break }
            }
            var first = true
            while true {
                switch try await client.getFeed(query: .init(after: cursor, limit: 1000, wait: first ? 0 : 25)) {
                case .ok(let ok):
                    let page = try ok.body.json
                    defer { first = false }
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
