import Hummingbird

/// Refuses a request whose path or query carries U+0000 (`%00`), with a 400 that names the
/// parameter, before any handler sees it.
///
/// PostgreSQL's text cannot hold U+0000: a ticket number, queue or vendor with one in it
/// failed in the database, as a 500. Request bodies are checked field by field where their
/// text is read (see `BatonAPIService.text`).
struct NulCharacterMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // A NUL reaches a path or query only percent-encoded: the HTTP parser refuses a raw one.
        let uri = request.uri.description
        guard Self.holdsEncodedNul(uri) else { return try await next(request, context) }
        let path = uri.prefix { $0 != "?" }
        let field: String
        if path.contains("%00") {
            field = "path"
        } else {
            let names = request.uri.queryParameters.filter { $0.key.contains("\u{0}") || $0.value.contains("\u{0}") }.map { String($0.key) }
            field = names.first.map { "query parameter \($0.replacingOccurrences(of: "\u{0}", with: "\\u0000"))" } ?? "query"
        }
        return APIProblem.nulCharacter(field).httpResponse
    }

    /// Whether `uri` holds `%00`. A loop over the bytes: Foundation's `String.contains` and
    /// the standard library's generic `Collection.contains(_:)` each cost over a
    /// microsecond a request.
    static func holdsEncodedNul(_ uri: String) -> Bool {
        var matched = 0
        for byte in uri.utf8 {
            if byte == UInt8(ascii: "%") {
                matched = 1
            } else if byte == UInt8(ascii: "0") && matched > 0 {
                matched += 1
                if matched == 3 { return true }
            } else {
                matched = 0
            }
        }
        return false
    }
}
