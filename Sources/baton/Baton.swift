import ArgumentParser

@main
struct Baton: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baton",
        abstract: "Work Baton tickets from the command line.",
        discussion: """
            Log in once with a token from your administrator:
              baton login --server http://127.0.0.1:8080 --token baton_…
            Then, for example:
              baton queue
              baton next
              baton show T-1042
              baton accept T-1042
              baton comment T-1042 -m "Called the requester" --internal
              baton resolve T-1042 --code fixed -m "Replaced the toner"
              baton report compliance --month 2026-10 -o csv

            Exit codes: 2 usage, 3 not found, 4 conflict, 5 authentication, 6 server unreachable.
            """,
        subcommands: [
            Login.self, Whoami.self, Queue.self, Next.self, Show.self, History.self, Watch.self, Open.self,
            Accept.self, Start.self, Comment.self, Hold.self, Resume.self, Release.self, Resolve.self, Reopen.self, Close.self,
            ChangePriority.self, Reassign.self, Escalate.self, Reject.self, Cancel.self,
            Report.self, Verify.self, AgreementsCommand.self, TokensCommand.self,
        ])
}

/// Runs a command's work, turning every failure into one line on stderr and its exit code.
func perform(_ body: () async throws -> Void) async {
    do {
        try await body()
    } catch {
        Failure.exit(with: error)
    }
}
