import ArgumentParser

@main
struct Batond: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batond",
        abstract: "The Baton service-ticket broker daemon.",
        discussion: """
            Without DATABASE_URL, batond runs a private PostgreSQL cluster in the data \
            directory (default .baton/postgres), starting it when needed.
            """,
        subcommands: [Serve.self, Migrate.self, Verify.self, Agreements.self, Tokens.self, Import.self, ProjectionsCommand.self],
        defaultSubcommand: Serve.self)
}
