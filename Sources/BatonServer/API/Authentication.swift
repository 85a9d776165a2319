import BatonDomain
import Foundation
import Hummingbird
import Logging
import OpenAPIRuntime

/// The caller of the request being handled, set by ``AuthenticationMiddleware``.
enum Authentication {
    @TaskLocal static var principal: Principal?
}

/// Authenticates every `/v1/` request by its bearer token; anything else passes through.
/// A missing, unknown or revoked token is answered 401 before any handler runs.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: TokenCache

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1/") else { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              let principal = try await tokens.authenticate(String(header.dropFirst("Bearer ".count).trimmingWhiteSpace()))
        else {
            var response = APIProblem.unauthenticated.httpResponse
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await Authentication.$principal.withValue(principal) { try await next(request, context) }
    }
}

/// Answers requests the generated server could not decode (a body that is not the
/// documented JSON, a missing field) as 400 problems that say what was wrong.
struct RequestDecodingMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServerError where (400..<500).contains(error.httpStatus.code) || error.underlyingError is DecodingError {
            return APIProblem(status: 400, code: "invalid-request", title: "Invalid request", detail: Self.describe(error.underlyingError)).httpResponse
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "the request does not match the API document (see /openapi.yaml)" }
        func path(_ context: DecodingError.Context) -> String {
            let joined = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return joined.hasPrefix(".") ? String(joined.dropFirst()) : joined
        }
        switch decoding {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "\(parent.isEmpty ? "" : parent + ".")\(key.stringValue): is required"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context).isEmpty ? "the body" : path(context)): has the wrong type"
        case .dataCorrupted(let context):
            let field = path(context).isEmpty ? "a query parameter or field" : path(context)
            // Enums report "Cannot initialize X from invalid String value Y": say it plainly.
            if let range = context.debugDescription.range(of: "from invalid String value ") {
                return "\(field): \"\(context.debugDescription[range.upperBound...])\" is not one of the values /openapi.yaml lists"
            }
            return "\(field): \(context.debugDescription)"
        @unknown default:
            return "the body is not the documented JSON"
        }
    }
}
