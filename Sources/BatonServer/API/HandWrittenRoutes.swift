import BatonAPI
import BatonDomain
import Foundation
import HTTPTypes
@_spi(Generated) import OpenAPIRuntime

/// The busiest routes, `POST /v1/tickets` and `POST /v1/leases`, served as the generated
/// server serves them (the same header handling, error wrapping and problem documents,
/// through the runtime's own `UniversalServer` and `Converter`), except that the body is
/// decoded by ``PayloadJSONDecoder`` instead of `JSONDecoder`, and a successful answer is
/// written by ``AnswerJSON`` instead of `JSONEncoder`: the same values and bytes at a
/// fraction of the cost.
///
/// Each handler mirrors the generated one. `AnswerJSONTests` holds the answers' bytes to
/// the generated server's; `WorkAPITests` holds the refusals to a generated route's.
struct HandWrittenRoutes: Sendable {
    typealias Handler = @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)

    let server: UniversalServer<BatonAPIService>

    init(api: BatonAPIService, configuration: Configuration) {
        server = UniversalServer(handler: api, configuration: configuration)
    }

    /// The routes served here (`METHOD /path`, as the generated server registers them).
    var routes: Set<String> { Set(handlers.keys) }

    /// The handler for a route served here, nil for the generated server's.
    func handler(method: HTTPRequest.Method, path: String) -> Handler? {
        handlers["\(method.rawValue) \(path)"]
    }

    private var handlers: [String: Handler] {
        ["POST /v1/tickets": openTicket, "POST /v1/leases": leaseTickets]
    }

    private var openTicket: Handler {
        { [self] request, body, metadata in
            try await serve(
                request, body, metadata, operation: Operations.OpenTicket.id, using: { api in api.openTicket },
                deserializer: { converter, request, requestBody in
                    let headers = Operations.OpenTicket.Input.Headers(
                        idempotencyKey: try converter.getOptionalHeaderFieldAsURI(
                            in: request.headerFields, name: "Idempotency-Key", as: Components.Parameters.IdempotencyKey.self),
                        accept: try Self.accept(converter, request, orElse: Self.openTicketAccept))
                    return Operations.OpenTicket.Input(
                        headers: headers, body: .json(try await Self.jsonBody(converter, request, requestBody)))
                },
                answer: { output in
                    switch output {
                    case .created(let created):
                        guard case .json(let value) = created.body else { preconditionFailure("the API document allows only JSON") }
                        return .json(201, AnswerJSON.write(value))
                    case .ok(let ok):
                        guard case .json(let value) = ok.body else { preconditionFailure("the API document allows only JSON") }
                        return .json(200, AnswerJSON.write(value))
                    case .default(let status, let problem):
                        return .problem(status, problem)
                    }
                })
        }
    }

    private var leaseTickets: Handler {
        { [self] request, body, metadata in
            try await serve(
                request, body, metadata, operation: Operations.LeaseTickets.id, using: { api in api.leaseTickets },
                deserializer: { converter, request, requestBody in
                    Operations.LeaseTickets.Input(
                        headers: .init(accept: try Self.accept(converter, request, orElse: Self.leaseTicketsAccept)),
                        body: .json(try await Self.jsonBody(converter, request, requestBody)))
                },
                answer: { output in
                    switch output {
                    case .ok(let ok):
                        guard case .json(let value) = ok.body else { preconditionFailure("the API document allows only JSON") }
                        return .json(200, AnswerJSON.write(value))
                    case .default(let status, let problem):
                        return .problem(status, problem)
                    }
                })
        }
    }

    /// A successful answer's bytes, or a problem to encode as the generated server does.
    private enum Answer {
        case json(Int, [UInt8])
        case problem(Int, Components.Responses.Problem)
    }

    private static let openTicketAccept = AcceptHeaderContentType<Operations.OpenTicket.AcceptableContentType>.defaultValues
    private static let leaseTicketsAccept = AcceptHeaderContentType<Operations.LeaseTickets.AcceptableContentType>.defaultValues

    /// The Accept header's content types, as the generated deserializers read them. Without
    /// the header (most clients send none) that is the operation's defaults, built once here
    /// rather than on every request.
    private static func accept<T: AcceptableProtocol>(
        _ converter: Converter, _ request: HTTPRequest, orElse defaults: [AcceptHeaderContentType<T>]
    ) throws -> [AcceptHeaderContentType<T>] {
        guard request.headerFields[.accept] != nil else { return defaults }
        return try converter.extractAcceptHeaderIfPresent(in: request.headerFields)
    }

    /// A required JSON body, checked and decoded as the generated deserializers do.
    private static func jsonBody<Body: Decodable & Sendable>(
        _ converter: Converter, _ request: HTTPRequest, _ requestBody: HTTPBody?
    ) async throws -> Body {
        switch request.headerFields[.contentType] {
        case "application/json", "application/json; charset=utf-8":
            // What the runtime's content negotiation accepts for these, without parsing them:
            // it parsed two media types on every request, 1.5% of batond's work.
            break
        default:
            let chosen = try converter.bestContentType(
                received: converter.extractContentTypeIfPresent(in: request.headerFields), options: ["application/json"])
            precondition(chosen == "application/json", "bestContentType chose an invalid content type")
        }
        // Decoded by the event store's JSON decoder, not Foundation's: for these small bodies
        // Foundation's fixed cost was 3% of batond's CPU. Its errors are the same
        // `DecodingError`s, with the coding path, which `RequestDecodingMiddleware` describes.
        // The body's size is bounded by `BodyLimitMiddleware`.
        var bytes: [UInt8] = []
        if let requestBody { bytes = try await [UInt8](collecting: requestBody, upTo: .max) }
        // A missing or empty body is refused as the runtime refuses it, in the same words.
        guard !bytes.isEmpty else {
            return try await converter.getRequiredRequestBodyAsJSON(Body.self, from: requestBody.map { _ in HTTPBody() }, transforming: { $0 })
        }
        return try PayloadJSONDecoder().decode(Body.self, from: bytes)
    }

    private func serve<Input: Sendable, Output: Sendable>(
        _ request: HTTPRequest, _ body: HTTPBody?, _ metadata: ServerRequestMetadata, operation: String,
        using method: @Sendable @escaping (BatonAPIService) -> (Input) async throws -> Output,
        deserializer: @Sendable @escaping (Converter, HTTPRequest, HTTPBody?) async throws -> Input,
        answer: @Sendable @escaping (Output) -> Answer
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let converter = server.converter
        return try await server.handle(
            request: request, requestBody: body, metadata: metadata, forOperation: operation, using: method,
            deserializer: { request, requestBody, _ in try await deserializer(converter, request, requestBody) },
            serializer: { output, request in
                switch answer(output) {
                case .json(let status, let bytes):
                    try converter.validateAcceptIfPresent("application/json", in: request.headerFields)
                    var response = HTTPResponse(soar_statusCode: status)
                    response.headerFields[.contentType] = "application/json; charset=utf-8"
                    response.headerFields[.contentLength] = String(bytes.count)
                    return (response, HTTPBody(bytes))
                case .problem(let status, let problem):
                    guard case .applicationProblemJson(let value) = problem.body else {
                        preconditionFailure("the API document allows only problem documents")
                    }
                    try converter.validateAcceptIfPresent("application/problem+json", in: request.headerFields)
                    var response = HTTPResponse(soar_statusCode: status)
                    let body = try converter.setResponseBodyAsJSON(
                        value, headerFields: &response.headerFields, contentType: "application/problem+json; charset=utf-8")
                    return (response, body)
                }
            })
    }
}

/// Registers the generated server's routes on `base`, except those ``HandWrittenRoutes``
/// serves, and makes sure each of those replaced a generated route (a path renamed in
/// `openapi.yaml` must not leave a hand-written route behind, unused).
///
/// The hand-written routes use the configuration given to them, not the one given to
/// `registerHandlers(on:configuration:middlewares:)`: pass both the same, with no
/// middlewares or server URL, as `buildApplication` does.
final class BatonServerTransport: ServerTransport {
    private let base: any ServerTransport
    private let routes: HandWrittenRoutes
    private var replaced: Set<String> = []

    init(base: any ServerTransport, routes: HandWrittenRoutes) {
        self.base = base
        self.routes = routes
    }

    func register(
        _ handler: @Sendable @escaping (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?),
        method: HTTPRequest.Method, path: String
    ) throws {
        if let replacement = routes.handler(method: method, path: path) {
            replaced.insert("\(method.rawValue) \(path)")
            try base.register(replacement, method: method, path: path)
        } else {
            try base.register(handler, method: method, path: path)
        }
    }

    /// Throws unless every hand-written route replaced a generated one.
    func requireEveryRouteReplaced() throws {
        let unused = routes.routes.subtracting(replaced)
        guard unused.isEmpty else {
            throw HandWrittenRouteUnused(routes: unused.sorted())
        }
    }
}

struct HandWrittenRouteUnused: Error, CustomStringConvertible {
    let routes: [String]
    var description: String { "hand-written routes the API document does not have: \(routes.joined(separator: ", "))" }
}
