import Foundation
import Hummingbird

/// Refuses a write whose `Accept` header admits no answer it could get, with a 406 problem,
/// before the write is made. The generated server checks `Accept` only when it writes the
/// answer, after the ticket was opened or the lease granted: the caller would have changed
/// something it never hears about.
///
/// Writes answer JSON (problems as `application/problem+json`); an NDJSON import answers NDJSON.
/// Reads change nothing and are left to the generated server.
struct AcceptMiddleware<Context: RequestContext>: RouterMiddleware {
    /// What each streaming write answers with, by path; every other write answers JSON.
    var answers: [String: String] = ["/v1/tickets/import": "application/x-ndjson"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method != .get, request.method != .head, let accept = request.headers[.accept] else {
            return try await next(request, context)
        }
        let answer = answers[request.uri.path] ?? "application/json"
        guard Self.admits(accept, answer) || Self.admits(accept, "application/problem+json") else {
            return APIProblem(
                status: 406, code: "not-acceptable", title: "Not acceptable",
                detail: "Accept: this request answers \(answer) (problems as application/problem+json), which \"\(accept)\" does not admit; nothing was changed"
            ).httpResponse
        }
        return try await next(request, context)
    }

    /// Whether an `Accept` value admits `type`: a range naming it, its `type/*` or `*/*`, with
    /// a quality above zero.
    static func admits(_ accept: String, _ type: String) -> Bool {
        let family = type.prefix { $0 != "/" } + "/*"
        return accept.split(separator: ",").contains { range in
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let media = parts.first, media == type || media == family || media == "*/*" else { return false }
            let quality = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return quality > 0
        }
    }
}
