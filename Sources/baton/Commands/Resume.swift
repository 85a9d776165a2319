import ArgumentParser
import BatonAPI

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Take a ticket off hold.", discussion: "Example:\n  baton resume T-1042")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The ticket number, T-1042 or 1042.")
    var number: String

    func run() async {
        await perform {
            switch try await connection.client().resumeTicket(path: .init(number: number)) {
            case .ok(let done): try report((200, done, nil), format: connection.output)
            case .default(let status, let problem): try report((status, nil, problem), format: connection.output)
            }
        }
    }
}
