import ArgumentParser
import BatonAPI
import Foundation

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Store the server and your token, and check them.",
        discussion: "Example:\n  baton login --server http://127.0.0.1:8080 --token baton_…")

    @Option(help: "batond's URL.")
    var server: String

    @Option(help: "Your API token (from `batond tokens create`).")
    var token: String

    func run() async {
        await perform {
            let settings = Settings(server: server, token: token)
            try settings.save()
            setenv("BATON_URL", server, 1)
            setenv("BATON_TOKEN", token, 1)
            switch try await ConnectionOptions().client().whoami() {
            case .ok(let ok):
                let me = try ok.body.json
                print("logged in to \(server) as \(me.actor) (\(me.name)); settings saved in \(Settings.file.path)")
            case .default(let status, let problem):
                throw Failure(status: status, problem: try problem.body.applicationProblemJson)
            }
        }
    }
}
