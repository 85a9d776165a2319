import ArgumentParser
import BatonAgreementFiles
import BatonDomain
import BatonServer
import Foundation

struct Agreements: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load and list outsourcing agreements.",
        subcommands: [Apply.self, List.self])

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate an agreements file and record what is new in it.",
            discussion: """
                Every agreement becomes a stream of events: a new agreement is registered, a new \
                version is recorded as an amendment. Versions already recorded are left alone, so \
                applying the same file again changes nothing. A file with problems is refused \
                whole, with every problem and its place in the file.

                Example:
                  batond agreements apply deploy/examples/agreements.yaml
                """)

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The agreements YAML file.")
        var file: String

        @Option(help: "Who is applying it, recorded on every event.")
        var actor = "admin:\(NSUserName())"

        func run() async throws {
            let set: AgreementSet
            do {
                set = try AgreementsFile.load(contentsOf: URL(fileURLWithPath: file))
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode.validationFailure
            }
            let logger = database.makeLogger()
            let changes = try await Database.with(database.database, maximumConnections: 2, logger: logger) { database in
                try await database.migrateIfNeeded(logger: logger)
                return try await AgreementCatalog(store: database.eventStore).apply(set, actor: actor, at: Date())
            }
            for change in changes { print(change) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every recorded version of every agreement.",
            discussion: """
                Example:
                  batond agreements list
                """)

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let logger = database.makeLogger()
            let agreements = try await Database.with(database.database, maximumConnections: 2, logger: logger) { database in
                try await AgreementCatalog(store: database.eventStore).agreements()
            }
            guard !agreements.isEmpty else {
                print("no agreements recorded; load some with `batond agreements apply FILE`")
                return
            }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withFullDate]
            let rows = [["ID", "VERSION", "KIND", "VENDOR", "QUEUES", "IN FORCE"]] + agreements.map { agreement in
                [
                    agreement.id, "\(agreement.version)", agreement.kind.rawValue, agreement.vendorId ?? "-",
                    agreement.queues.joined(separator: ","),
                    "\(formatter.string(from: agreement.effectiveFrom)) – \(agreement.effectiveTo.map { formatter.string(from: $0) } ?? "")",
                ]
            }
            printTable(rows)
        }
    }
}
