import ArgumentParser
import BatonAPI
import Foundation

/// Reads the answer of an action that has the shared `ActionDone` response.
private func finish(_ status: Int, _ done: Components.Responses.ActionDone?, _ problem: Components.Responses.Problem?, _ connection: ConnectionOptions) throws {
    try report((status, done, problem), format: connection.output)
}

struct Release: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Release your lease; the ticket goes back to its queue.", discussion: "Example:\n  baton release T-1042")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The ticket number, T-1042 or 1042.") var number: String

    func run() async {
        await perform {
            switch try await connection.client().releaseLease(path: .init(number: number)) {
            case .ok(let done): try finish(200, done, nil, connection)
            case .default(let status, let problem): try finish(status, nil, problem, connection)
            }
        }
    }
}

struct Reopen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reopen a resolved ticket.", discussion: "Example:\n  baton reopen T-1042 --reason \"Printer jams again\"")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The ticket number, T-1042 or 1042.") var number: String
    @Option(help: "Why.") var reason: String

    func run() async {
        await perform {
            switch try await connection.client().reopenTicket(path: .init(number: number), body: .json(.init(reason: reason))) {
            case .ok(let done): try finish(200, done, nil, connection)
            case .default(let status, let problem): try finish(status, nil, problem, connection)
            }
        }
    }
}

struct ChangePriority: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "priority", abstract: "Change a ticket's priority; its clocks' targets follow.",
        discussion: "Example:\n  baton priority T-1042 P1 --reason \"Whole floor affected\"")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The ticket number, T-1042 or 1042.") var number: String
    @Argument(help: "P1 … P5.") var priority: String
    @Option(help: "Why.") var reason: String?

    func run() async {
        await perform {
            guard let p = Components.Schemas.PriorityRequest.PriorityPayload(rawValue: priority.uppercased()) else {
                throw Failure(.usage, "priority: \"\(priority)\" is not one of P1, P2, P3, P4, P5")
            }
            switch try await connection.client().changeTicketPriority(path: .init(number: number), body: .json(.init(priority: p, reason: reason))) {
            case .ok(let done): try finish(200, done, nil, connection)
            case .default(let status, let problem): try finish(status, nil, problem, connection)
            }
        }
    }
}

struct Reassign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Move a ticket to another queue.", discussion: "Example:\n  baton reassign T-1042 --to infrastructure --reason \"Server-side fault\"")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The ticket number, T-1042 or 1042.") var number: String
    @Option(help: "The queue.") var to: String
    @Option(help: "Why.") var reason: String

    func run() async {
        await perform {
            switch try await connection.client().reassignTicket(path: .init(number: number), body: .json(.init(queue: to, reason: reason))) {
            case .ok(let done): try finish(200, done, nil, connection)
            case .default(let status, let problem): try finish(status, nil, problem, connection)
            }
        }
    }
}

struct Escalate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Escalate a ticket.", discussion: "Example:\n  baton escalate T-1042 --reason \"No progress in two days\"")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The ticket number, T-1042 or 1042.") var number: String
    @Option(help: "Why.") var reason: String

    func run() async {
        await perform {
            switch try await connection.client().escalateTicket(path: .init(number: number), body: .json(.init(reason: reason))) {
            case .ok(let done): try finish(200, done, nil, connection)
            case .default(let status, let problem): try finish(status, nil, problem, connection)
            }
        }
    }
}

struct Reject: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reject a ticket (vendors); it is routed elsewhere at once.", discussion: "Example:\n  baton reject T-1042 --reason \"Not a supported model\"")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The ticket number, T-1042 or 1042.") var number: String
    @Option(help: "Why.") var reason: String

    func run() async {
        await perform {
            switch try await connection.client().rejectTicket(path: .init(number: number), body: .json(.init(reason: reason))) {
            case .ok(let done): try finish(200, done, nil, connection)
            case .default(let status, let problem): try finish(status, nil, problem, connection)
            }
        }
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel a ticket.", discussion: "Example:\n  baton cancel T-1042 --reason \"Duplicate of T-1040\"")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The ticket number, T-1042 or 1042.") var number: String
    @Option(help: "Why.") var reason: String

    func run() async {
        await perform {
            switch try await connection.client().cancelTicket(path: .init(number: number), body: .json(.init(reason: reason))) {
            case .ok(let done): try finish(200, done, nil, connection)
            case .default(let status, let problem): try finish(status, nil, problem, connection)
            }
        }
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the event log's hash chain (auditors and admins).", discussion: "Example:\n  baton verify")
    @OptionGroup var connection: ConnectionOptions

    func run() async {
        await perform {
            switch try await connection.client().verifyIntegrity() {
            case .ok(let ok):
                let report = try ok.body.json
                if connection.output == .json { try printJSON(report) } else { print(report.summary) }
                if !report.intact { throw Failure(.conflict, "the log is broken at position \(report.brokenAt.map(String.init) ?? "?"): \(report.reason ?? "")") }
            case .default(let status, let problem):
                throw Failure(status: status, problem: try problem.body.applicationProblemJson)
            }
        }
    }
}
