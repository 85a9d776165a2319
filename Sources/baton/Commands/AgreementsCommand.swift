import ArgumentParser
import BatonAPI
import BatonTerminal
import Foundation
import OpenAPIRuntime

struct AgreementsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agreements", abstract: "The outsourcing agreements: list them, show one, apply a file (admins).",
        subcommands: [List.self, Show.self, Apply.self])

    static func fetch(_ connection: ConnectionOptions) async throws -> [Components.Schemas.AgreementVersion] {
        switch try await connection.client().listAgreements() {
        case .ok(let ok): return try ok.body.json.agreements
        case .default(let status, let problem): throw Failure(status: status, problem: try problem.body.applicationProblemJson)
        }
    }

    static func table(_ agreements: [Components.Schemas.AgreementVersion]) -> Table {
        var table = Table(header: ["ID", "VERSION", "KIND", "VENDOR", "QUEUES", "IN FORCE"])
        for a in agreements {
            let from = String(Timeline.format(a.effectiveFrom).prefix(10))
            let to = a.effectiveTo.map { String(Timeline.format($0).prefix(10)) } ?? ""
            table.append([Cell(a.id), Cell("\(a.version)"), Cell(a.kind.rawValue), Cell(a.vendorId ?? "-"), Cell(a.queues.joined(separator: ",")), Cell("\(from) – \(to)")])
        }
        return table
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every recorded agreement version you may see.", discussion: "Example:\n  baton agreements list")
        @OptionGroup var connection: ConnectionOptions

        func run() async {
            await perform {
                let agreements = try await AgreementsCommand.fetch(connection)
                if connection.output == .json { try printJSON(agreements); return }
                let terminal = connection.terminal
                print(AgreementsCommand.table(agreements).render(width: terminal.width, colour: terminal.colour), terminator: "")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every version of one agreement.", discussion: "Example:\n  baton agreements show northwind-helpdesk")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The agreement id.") var id: String

        func run() async {
            await perform {
                let versions = try await AgreementsCommand.fetch(connection).filter { $0.id == id }
                guard !versions.isEmpty else { throw Failure(.notFound, "no agreement \(id) (see `baton agreements list`)") }
                if connection.output == .json { try printJSON(versions); return }
                for v in versions {
                    print("\(v.id) version \(v.version): \(v.name)")
                    print("  \(v.kind.rawValue)\(v.vendorId.map { ", vendor \($0)" } ?? ""), queues \(v.queues.joined(separator: ", ")), precedence \(v.precedence)")
                    print("  in force from \(Timeline.format(v.effectiveFrom))\(v.effectiveTo.map { " to \(Timeline.format($0))" } ?? "")")
                }
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply an agreements file (admins): new agreements and versions are recorded.",
            discussion: """
                Shows the agreements the file defines and asks before applying, unless --yes.
                A file with any problem is refused whole, each problem named by its place.

                Example:
                  baton agreements apply deploy/examples/agreements.yaml --yes
                """)
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The YAML (or JSON) file.") var file: String
        @Flag(help: "Apply without asking.") var yes = false

        func run() async {
            await perform {
                let text: String
                do {
                    text = try String(contentsOfFile: file, encoding: .utf8)
                } catch {
                    throw Failure(.usage, "\(file): cannot be read")
                }
                let current = try await AgreementsCommand.fetch(connection)
                let known = Set(current.map { "\($0.id)#\($0.version)" })
                // A light reading of the file's agreements, to say what applying would add.
                let defined = Self.versions(in: text)
                let new = defined.filter { !known.contains("\($0.id)#\($0.version)") }
                if connection.output == .text {
                    print("\(file) defines \(defined.count) agreement version\(defined.count == 1 ? "" : "s"); new here: \(new.isEmpty ? "none" : new.map { "\($0.id) v\($0.version)" }.joined(separator: ", "))")
                }
                if !yes {
                    guard isatty(STDIN_FILENO) == 1 else { throw Failure(.usage, "not a terminal to ask on: pass --yes to apply") }
                    print("Apply? [y/N] ", terminator: "")
                    guard let answer = readLine(), answer.lowercased().hasPrefix("y") else {
                        print("nothing applied")
                        return
                    }
                }
                switch try await connection.client().applyAgreements(body: .yaml(HTTPBody(text))) {
                case .ok(let ok):
                    let changes = try ok.body.json.changes
                    if connection.output == .json { try printJSON(changes); return }
                    for c in changes {
                        print("\(c.action.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(c.agreementId)\(c.versions.isEmpty ? "" : " (versions \(c.versions.map(String.init).joined(separator: ", ")))")")
                    }
                case .default(let status, let problem):
                    throw Failure(status: status, problem: try problem.body.applicationProblemJson)
                }
            }
        }

        /// `(id, version)` of each `- id:` entry and the `version:` that follows it.
        static func versions(in text: String) -> [(id: String, version: Int)] {
            var result: [(String, Int)] = []
            var id: String?
            for line in text.split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("- id:") { id = trimmed.dropFirst(5).trimmingCharacters(in: .whitespaces) }
                if trimmed.hasPrefix("version:"), let current = id, let v = Int(trimmed.dropFirst(8).trimmingCharacters(in: .whitespaces)) {
                    result.append((current, v))
                    id = nil
                }
            }
            return result
        }
    }
}
