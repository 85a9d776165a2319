import ArgumentParser
import BatonAPI

struct Whoami: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Say who the server thinks you are.", discussion: "Example:\n  baton whoami")

    @OptionGroup var connection: ConnectionOptions

    func run() async {
        await perform {
            switch try await connection.client().whoami() {
            case .ok(let ok):
                let me = try ok.body.json
                if connection.output == .json { try printJSON(me) } else { print("\(me.actor) (\(me.name), \(me.role.rawValue))") }
            case .default(let status, let problem):
                throw Failure(status: status, problem: try problem.body.applicationProblemJson)
            }
        }
    }
}
