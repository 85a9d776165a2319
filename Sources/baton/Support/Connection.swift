import ArgumentParser
import BatonAPI
import Foundation
import HTTPTypes
import AsyncHTTPClient
import BatonTerminal
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

/// Options every command that talks to batond shares.
struct ConnectionOptions: ParsableArguments {
    @Option(name: [.customShort("o"), .long], help: "Output: text, json or csv (csv for lists and reports).")
    var output: OutputFormat = .text

    @Flag(name: .customLong("no-color"), help: "No colour, even on a terminal (as NO_COLOR does).")
    var noColor = false

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json, csv
    }

    var terminal: Terminal { Terminal.current(noColour: noColor) }

    /// A client for the configured server with the configured token.
    func client() throws -> Client {
        guard let settings = Settings.current() else {
            throw Failure(.auth, "not logged in: run `baton login --server URL --token TOKEN`, or set BATON_URL and BATON_TOKEN")
        }
        guard let url = URL(string: settings.server), url.scheme == "http" || url.scheme == "https" else {
            throw Failure(.usage, "server: \"\(settings.server)\" is not an http(s) URL")
        }
        return Client(
            serverURL: url, configuration: .init(dateTranscoder: RFC3339Dates()),
            transport: AsyncHTTPClientTransport(configuration: .init(client: Self.httpClient, timeout: .seconds(60))),
            middlewares: [BearerToken(token: settings.token)])
    }

    /// One HTTP client for the process. A refused connection fails at once (the default keeps
    /// retrying until the request times out), so a server that is down is reported quickly.
    static let httpClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(60))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}

/// Adds `Authorization: Bearer …` to every request.
struct BearerToken: ClientMiddleware {
    let token: String

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}

/// RFC 3339 with or without fractional seconds, as batond writes and reads them.
struct RFC3339Dates: DateTranscoder {
    func encode(_ date: Date) throws -> String { try ISO8601DateTranscoder.iso8601WithFractionalSeconds.encode(date) }
    func decode(_ text: String) throws -> Date {
        if let date = try? ISO8601DateTranscoder.iso8601WithFractionalSeconds.decode(text) { return date }
        return try ISO8601DateTranscoder.iso8601.decode(text)
    }
}

/// The RFC 3339 instant given for `option`, or a usage failure that names the option.
func instant(_ text: String?, option: String) throws -> Date? {
    try text.map { text in
        guard let date = try? RFC3339Dates().decode(text) else {
            throw Failure(.usage, "\(option): \"\(text)\" is not an RFC 3339 instant such as 2026-11-02T09:00:00Z")
        }
        return date
    }
}

/// Prints `value` as pretty JSON.
func printJSON<Value: Encodable>(_ value: Value) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
