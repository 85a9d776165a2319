import BatonAPI
import BatonDomain
import BatonProjections
import EventStore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// An error answered as an RFC 9457 problem document, with a stable code.
struct APIProblem: Error, Sendable {
    var status: Int
    var code: String
    var title: String
    var detail: String?
    var ticketStatus: String?
    var allowedActions: [String]?

    var document: Components.Schemas.Problem {
        Components.Schemas.Problem(
            _type: "https://baton.invalid/problems/\(code)", title: title, status: status, detail: detail, code: code,
            ticketStatus: ticketStatus, allowedActions: allowedActions)
    }

    var response: Components.Responses.Problem { .init(body: .applicationProblemJson(document)) }

    static let unauthenticated = APIProblem(
        status: 401, code: "unauthenticated", title: "Authentication required",
        detail: "send Authorization: Bearer <token>; create a token with `batond tokens create`")

    static func ticketNotFound(_ number: String) -> APIProblem {
        APIProblem(status: 404, code: "ticket-not-found", title: "No such ticket", detail: "no ticket \(number) exists (or it is not yours to see)")
    }

    static func forbidden(_ detail: String) -> APIProblem {
        APIProblem(status: 403, code: "forbidden", title: "Not allowed", detail: detail)
    }

    static func invalid(_ field: String, _ expected: String) -> APIProblem {
        APIProblem(status: 400, code: "invalid-request", title: "Invalid request", detail: "\(field): \(expected)")
    }

    /// The problem for text that holds U+0000, which PostgreSQL's text cannot store.
    static func nulCharacter(_ field: String) -> APIProblem {
        invalid(field, "text without U+0000 (NUL), which PostgreSQL cannot store")
    }

    /// The problem for an error a handler threw; anything unexpected is logged and answered
    /// as a bare 500 that leaks nothing.
    static func from(_ error: any Error, logger: Logger) -> APIProblem {
        switch error {
        case let problem as APIProblem:
            return problem
        case let refusal as TicketError:
            return APIProblem(
                status: refusal.code == .notHolder ? 403 : 409,
                code: refusal.code == .notHolder ? "not-holder" : refusal.code == .invalidCommand ? "invalid-command" : "invalid-transition",
                title: "The ticket does not allow this now", detail: refusal.description,
                ticketStatus: refusal.status?.rawValue, allowedActions: refusal.allowed.map(\.rawValue))
        case let reused as TicketCommands.CommandIdReused:
            return APIProblem(status: 422, code: "idempotency-key-reused", title: "Idempotency-Key already used", detail: "\(reused); send a new key for a new request")
        case let invalid as TokenStore.InvalidToken:
            let missing = invalid.problem.hasPrefix("no token has an id")
            return APIProblem(
                status: missing ? 404 : 400, code: missing ? "token-not-found" : "invalid-request",
                title: missing ? "No such token" : "Invalid request", detail: invalid.description)
        case let mismatch as IdempotencyKeys.Mismatch:
            return APIProblem(status: 422, code: "idempotency-key-reused", title: "Idempotency-Key already used", detail: mismatch.description)
        case let missing as TicketOpener.NoAgreements:
            return APIProblem(status: 503, code: "no-agreements", title: "No agreements in force", detail: missing.description)
        case is TicketQueries.InvalidCursor:
            return APIProblem.invalid("cursor", "the nextCursor of a previous page")
        case let conflict as WrongExpectedVersion:
            return APIProblem(status: 409, code: "conflict", title: "The ticket kept changing", detail: "\(conflict); try again")
        default:
            logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return APIProblem(status: 500, code: "internal", title: "Internal error", detail: "the server could not complete the request; it has been logged")
        }
    }

    /// The problem as a plain Hummingbird response (for middleware, outside generated code).
    var httpResponse: Response {
        let status = HTTPResponse.Status(code: status)
        return (try? Response.sortedJSON(document, status: status, contentType: "application/problem+json"))
            ?? Response(status: status, headers: [.contentType: "application/problem+json"])
    }
}
