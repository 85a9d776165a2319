import ArgumentParser
import BatonAPI
import BatonTerminal
import Foundation

struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "API tokens (admins): create, list, revoke.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a token; its secret is printed this once.",
            discussion: """
                Examples:
                  baton tokens create --role vendor --vendor northwind --name "Northwind integration"
                  baton tokens create --role agent --login grace --name "Grace Hopper"
                  baton tokens create --role auditor --name "City auditor"
                """)
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "admin, agent, vendor, auditor or ingest.") var role: String
        @Option(help: "For a vendor token: the vendor id.") var vendor: String?
        @Option(help: "For an ingest token: the source.") var source: String?
        @Option(help: "For an agent or admin token: the login.") var login: String?
        @Option(help: "What the token is for.") var name: String

        func run() async {
            await perform {
                guard let role = Components.Schemas.TokenRequest.RolePayload(rawValue: role) else {
                    throw Failure(.usage, "--role: \"\(self.role)\" is not one of admin, agent, vendor, auditor, ingest")
                }
                let subjects = [vendor, source, login].compactMap { $0 }
                guard subjects.count <= 1 else { throw Failure(.usage, "give one of --vendor, --source, --login") }
                switch try await connection.client().createToken(body: .json(.init(role: role, subject: subjects.first, name: name))) {
                case .created(let created):
                    let made = try created.body.json
                    if connection.output == .json { try printJSON(made) } else { print(made.token) }
                case .default(let status, let problem):
                    throw Failure(status: status, problem: try problem.body.applicationProblemJson)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every token, without secrets.", discussion: "Example:\n  baton tokens list --active")
        @OptionGroup var connection: ConnectionOptions
        @Flag(help: "Only tokens not revoked.") var active = false

        func run() async {
            await perform {
                switch try await connection.client().listTokens(query: .init(active: active ? true : nil)) {
                case .ok(let ok):
                    let tokens = try ok.body.json.tokens
                    if connection.output == .json { try printJSON(tokens); return }
                    let terminal = connection.terminal
                    var table = Table(header: ["ID", "ROLE", "FOR", "NAME", "STARTS", "CREATED", "REVOKED"], flexibleColumn: 3)
                    for t in tokens {
                        table.append([Cell(String(t.id.prefix(8))), Cell(t.role.rawValue), Cell(t.subject ?? "-"), Cell(t.name), Cell(t.hint),
                                      Cell(String(Timeline.format(t.createdAt).prefix(10))), Cell(t.revokedAt.map { String(Timeline.format($0).prefix(10)) } ?? "-")])
                    }
                    print(table.render(width: terminal.width, colour: terminal.colour), terminator: "")
                case .default(let status, let problem):
                    throw Failure(status: status, problem: try problem.body.applicationProblemJson)
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id (or its first 8 characters).", discussion: "Example:\n  baton tokens revoke 3f2a9c1e")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The token's id, or its first 8 or more characters.") var id: String

        func run() async {
            await perform {
                guard id.count >= 8 else { throw Failure(.usage, "id: give at least the first 8 characters, as `baton tokens list` shows them") }
                switch try await connection.client().revokeToken(path: .init(id: id)) {
                case .ok(let ok):
                    let record = try ok.body.json
                    if connection.output == .json { try printJSON(record) } else { print("revoked \(record.id.prefix(8)) (\(record.role.rawValue) \(record.subject ?? ""), \(record.name))") }
                case .default(let status, let problem):
                    throw Failure(status: status, problem: try problem.body.applicationProblemJson)
                }
            }
        }
    }
}
