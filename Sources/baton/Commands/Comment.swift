import ArgumentParser
import BatonAPI

struct Comment: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Comment on a ticket, for staff or for the requester.",
        discussion: "Examples:\n  baton comment T-1042 -m \"Called the requester\" --internal\n  baton comment T-1042 -m \"A technician visits at 2pm.\"")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The ticket number, T-1042 or 1042.")
    var number: String

    @Option(name: [.customShort("m"), .long], help: "The comment.")
    var message: String

    @Flag(help: "For staff and vendors only (default: visible to the requester).")
    var `internal` = false

    func run() async {
        await perform {
            let body = Components.Schemas.CommentRequest(body: message, visibility: `internal` ? ._internal : .requester)
            switch try await connection.client().commentOnTicket(path: .init(number: number), body: .json(body)) {
            case .ok(let done): try report((200, done, nil), format: connection.output)
            case .default(let status, let problem): try report((status, nil, problem), format: connection.output)
            }
        }
    }
}
