import Foundation
import Hummingbird
import Logging

/// Gives every answer an `X-Request-Id` (the id in every log line of the request) and logs
/// one line per request at info: method, path, status and duration; never the query string,
/// the body or the token.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = 500
        defer {
            let elapsed = ContinuousClock.now - start
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            context.logger.info("request", metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(status)",
                "ms": "\(String(format: "%.1f", milliseconds))",
            ])
        }
        do {
            var response = try await next(request, context)
            status = response.status.code
            response.headers[.init("X-Request-Id")!] = context.id
            return response
        } catch let error as HTTPResponseError {
            status = error.status.code
            throw error
        }
    }
}
