import ArgumentParser
import BatonAPI

struct Resolve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resolve a ticket.",
        discussion: "Example:\n  baton resolve T-1042 --code fixed -m \"Reset the password; confirmed by phone.\"")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The ticket number, T-1042 or 1042.")
    var number: String

    @Option(help: "The resolution code, e.g. fixed, workaround, duplicate.")
    var code: String

    @Option(name: [.customShort("m"), .long], help: "What was done.")
    var message: String

    func run() async {
        await perform {
            let body = Components.Schemas.ResolveRequest(code: code, note: message)
            switch try await connection.client().resolveTicket(path: .init(number: number), body: .json(body)) {
            case .ok(let done): try report((200, done, nil), format: connection.output)
            case .default(let status, let problem): try report((status, nil, problem), format: connection.output)
            }
        }
    }
}
