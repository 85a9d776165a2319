import ArgumentParser
import BatonServer
import Foundation

struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke API tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it once.",
            discussion: """
                The token is printed on standard output and never again: only its hash is kept.

                Examples:
                  batond tokens create --role vendor --vendor northwind --name "Northwind integration"
                  batond tokens create --role agent --login mgarcia --name "Maria Garcia"
                  batond tokens create --role ingest --source servicenow --name "ServiceNow bridge"
                  batond tokens create --role auditor --name "City auditor's office"
                """)

        @OptionGroup var database: DatabaseOptions

        @Option(help: ArgumentHelp("admin, agent, vendor, auditor or ingest.", valueName: "role"))
        var role: Principal.Role

        @Option(help: "For --role vendor: the vendor id.")
        var vendor: String?

        @Option(help: "For --role ingest: the source system's name.")
        var source: String?

        @Option(help: "For --role agent or admin: the person's login.")
        var login: String?

        @Option(help: "What the token is for, shown in lists.")
        var name: String

        @Option(help: "Who is creating it, recorded with the token.")
        var actor = "admin:\(NSUserName())"

        func validate() throws {
            let given = [("--vendor", vendor), ("--source", source), ("--login", login)].filter { $0.1 != nil }.map(\.0)
            guard given.count <= 1 else { throw ValidationError("give only one of \(given.joined(separator: ", "))") }
        }

        func run() async throws {
            let logger = database.makeLogger()
            let (token, record) = try await Database.with(database.database, maximumConnections: 1, logger: logger) { database in
                try await database.migrateIfNeeded(logger: logger)
                do {
                    return try await TokenStore(client: database.client).create(
                        role: role, subject: vendor ?? source ?? login, name: name, createdBy: actor)
                } catch let error as TokenStore.InvalidToken {
                    throw ValidationError(error.description)
                }
            }
            print(token)
            FileHandle.standardError.write(Data("""
                created token \(record.id.uuidString.lowercased()) (\(record.role.rawValue)\(record.subject.map { " \($0)" } ?? ""), "\(record.name)").
                Store it now: it cannot be shown again.\n
                """.utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tokens (never their secrets).",
            discussion: "Example:\n  batond tokens list --active")

        @OptionGroup var database: DatabaseOptions

        @Flag(help: "Leave out revoked tokens.")
        var active = false

        func run() async throws {
            let logger = database.makeLogger()
            let records = try await Database.with(database.database, maximumConnections: 1, logger: logger) { database in
                try await TokenStore(client: database.client).list(activeOnly: active)
            }
            guard !records.isEmpty else {
                print("no tokens; create one with `batond tokens create`")
                return
            }
            let formatter = ISO8601DateFormatter()
            let rows = [["ID", "ROLE", "FOR", "NAME", "TOKEN", "CREATED", "REVOKED"]] + records.map { record in
                [
                    String(record.id.uuidString.lowercased().prefix(8)), record.role.rawValue, record.subject ?? "-", record.name,
                    record.hint + "…", formatter.string(from: record.createdAt), record.revokedAt.map { formatter.string(from: $0) } ?? "-",
                ]
            }
            printTable(rows)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token; requests with it fail from then on.",
            discussion: "Example:\n  batond tokens revoke 3f2a9c1e")

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The token's id, or its first 8 or more characters.")
        var id: String

        @Option(help: "Who is revoking it, recorded with the token.")
        var actor = "admin:\(NSUserName())"

        func run() async throws {
            let logger = database.makeLogger()
            let record = try await Database.with(database.database, maximumConnections: 1, logger: logger) { database in
                do {
                    return try await TokenStore(client: database.client).revoke(idPrefix: id, revokedBy: actor)
                } catch let error as TokenStore.InvalidToken {
                    throw ValidationError(error.description)
                }
            }
            print("revoked \(record.id.uuidString.lowercased()) (\(record.role.rawValue)\(record.subject.map { " \($0)" } ?? ""), \"\(record.name)\")")
        }
    }
}

extension Principal.Role: ExpressibleByArgument {}
