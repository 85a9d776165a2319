import ArgumentParser
import BatonAPI
import Foundation

/// A failure `baton` reports on stderr, one line saying what went wrong and what to do, with
/// an exit code scripts can tell apart.
struct Failure: Error, CustomStringConvertible {
    enum Kind: Int32 {
        case usage = 2, notFound = 3, conflict = 4, auth = 5, unreachable = 6, other = 1
    }

    var kind: Kind
    var message: String

    var description: String { message }

    /// The failure for a problem document the server answered with.
    init(status: Int, problem: Components.Schemas.Problem) {
        switch status {
        case 401, 403: kind = .auth
        case 404: kind = .notFound
        case 409, 412, 422: kind = .conflict
        case 400..<500: kind = .usage
        default: kind = .other
        }
        message = problem.detail ?? problem.title
        if status == 401 { message += " (log in with `baton login --server URL --token TOKEN`)" }
    }

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Prints a failure (or any other error) and exits with its code.
    static func exit(with error: any Error) -> Never {
        let failure: Failure
        switch error {
        case let known as Failure:
            failure = known
        case let exit as ExitCode:
            Foundation.exit(exit.rawValue)
        default:
            let text = String(describing: error)
            failure = text.contains("connect") || text.contains("Connection refused") || text.contains("NIOConnectionError")
                ? Failure(.unreachable, "cannot reach the server: is batond running, and is the server URL right? (\(Settings.current()?.server ?? "no server set"))")
                : Failure(.other, text)
        }
        FileHandle.standardError.write(Data("baton: \(failure.message)\n".utf8))
        Foundation.exit(failure.kind.rawValue)
    }
}
