import ArgumentParser
import BatonAPI
import Foundation

struct Hold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put a ticket on hold.",
        discussion: "Example:\n  baton hold T-1042 --reason awaiting-customer --until 2026-12-01T09:00:00Z")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The ticket number, T-1042 or 1042.")
    var number: String

    @Option(help: "awaiting-customer, awaiting-vendor, awaiting-change or scheduled.")
    var reason: String

    @Option(help: "When the hold ends by itself (RFC 3339).")
    var until: String?

    @Option(name: [.customShort("m"), .long], help: "A note.")
    var note: String?

    func run() async {
        await perform {
            guard let reason = Components.Schemas.HoldRequest.ReasonPayload(rawValue: reason) else {
                throw Failure(.usage, "--reason: \"\(self.reason)\" is not one of \(Components.Schemas.HoldRequest.ReasonPayload.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let end = try instant(until, option: "--until")
            let body = Components.Schemas.HoldRequest(reason: reason, until: end, note: note)
            switch try await connection.client().holdTicket(path: .init(number: number), body: .json(body)) {
            case .ok(let done): try report((200, done, nil), format: connection.output)
            case .default(let status, let problem): try report((status, nil, problem), format: connection.output)
            }
        }
    }
}
