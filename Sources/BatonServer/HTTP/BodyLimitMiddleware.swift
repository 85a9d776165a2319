import Hummingbird
import NIOCore

/// Refuses request bodies larger than `limit` bytes with a 413 problem, whether the client
/// declared the length or streams the body, so no handler ever buffers more than that.
/// Streaming routes, which read their body piece by piece, are left alone.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The largest body any route takes. Default 1 MiB.
    var limit = 1 << 20
    /// Routes that stream their body (and limit each piece themselves).
    var streamingPaths: Set<String> = ["/v1/tickets/import"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post || request.method == .put || request.method == .patch, !streamingPaths.contains(request.uri.path) else {
            return try await next(request, context)
        }
        let tooLarge = APIProblem(
            status: 413, code: "body-too-large", title: "Request body too large",
            detail: "body: at most \(limit) bytes")
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            return tooLarge.httpResponse
        }
        var request = request
        do {
            request.body = RequestBody(buffer: try await request.body.collect(upTo: limit))
        } catch is NIOTooManyBytesError {
            return tooLarge.httpResponse
        }
        return try await next(request, context)
    }
}
