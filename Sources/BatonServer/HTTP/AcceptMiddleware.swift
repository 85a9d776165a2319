import Foundation
import Hummingbird

/// Refuses a write whose `Accept` header does not admit the answer it would get if it
/// succeeds, with a 406 problem, before the write is made. The generated server checks
/// `Accept` only when it writes the answer, after the ticket was opened or the lease granted:
/// the caller would have changed something it never hears about.
///
/// Writes answer JSON; an NDJSON import answers NDJSON. An empty header admits anything, as
/// the generated server reads it; a range that is not `type/subtype` (say a bare `*`) is
/// refused here, where the generated server would refuse it only after the write. Reads
/// change nothing and are left to the generated server.
struct AcceptMiddleware<Context: RequestContext>: RouterMiddleware {
    /// What each streaming write answers with, by path; every other write answers JSON.
    var answers: [String: String] = ["/v1/tickets/import": "application/x-ndjson"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method != .get, request.method != .head,
              let accept = request.headers[.accept], !accept.allSatisfy(\.isWhitespace)
        else {
            return try await next(request, context)
        }
        let answer = answers[request.uri.path] ?? "application/json"
        guard Self.admits(accept, answer) else {
            return APIProblem(
                status: 406, code: "not-acceptable", title: "Not acceptable",
                detail: "Accept: this request answers \(answer), which \"\(accept)\" does not admit; nothing was changed"
            ).httpResponse
        }
        return try await next(request, context)
    }

    /// Whether an `Accept` value admits `type`: every range is `type/subtype` (with any
    /// parameters), and one names `type`, its `type/*` or `*/*` with a quality above zero.
    static func admits(_ accept: String, _ type: String) -> Bool {
        let family = type.prefix { $0 != "/" } + "/*"
        var admitted = false
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let media = parts.first, media.split(separator: "/", omittingEmptySubsequences: false).count == 2,
                  !media.hasPrefix("/"), !media.hasSuffix("/")
            else { return false }
            guard media == type || media == family || media == "*/*" else { continue }
            let quality = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            if quality > 0 { admitted = true }
        }
        return admitted
    }
}
