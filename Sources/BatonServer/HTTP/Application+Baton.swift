import BatonAPI
import EventStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import OpenAPIHummingbird
import OpenAPIRuntime
import BatonProjections
import Postgres
import Prometheus

/// Builds batond's HTTP application.
///
/// - `GET /healthz`: the process is up (never touches the database).
/// - `GET /readyz`: 200 when the database answers and migrations are applied, else 503,
///   with a JSON report either way.
/// - `GET /openapi.yaml`: the API document the `/v1/` routes are generated from.
/// - `GET /metrics`: Prometheus text format, when a registry is given.
/// - `/v1/…`: the API of `openapi.yaml`, for callers with a bearer token.
public func buildApplication(
    client: PostgresClient, host: String, port: Int, logger: Logger,
    metrics: PrometheusCollectorRegistry? = nil,
    projectionsChanged: ChangeSignal = ChangeSignal(), eventStore: EventStore? = nil,
    ticketHistories: TicketHistories = TicketHistories(budget: 0),
    now: @escaping @Sendable () -> Date = { Date() },
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let router = Router()
    router.add(middleware: RequestLogMiddleware())
    if let metrics {
        router.add(middleware: MetricsMiddleware())
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
    }
    router.add(middleware: BodyLimitMiddleware())
    let tokenCache = TokenCache(tokens: TokenStore(client: client), logger: logger)
    router.add(middleware: AuthenticationMiddleware(tokens: tokenCache))
    router.add(middleware: AcceptMiddleware())
    router.add(middleware: NulCharacterMiddleware())
    router.add(middleware: RequestDecodingMiddleware())
    router.get("/healthz") { _, _ in
        "ok\n"
    }
    let readiness = Readiness(client: client, logger: logger)
    router.get("/readyz") { _, _ -> Response in
        let report = await readiness.check()
        return try Response.sortedJSON(report, status: report.isReady ? .ok : .serviceUnavailable)
    }
    router.get("/openapi.yaml") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "application/yaml"],
            body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
    }
    let tickets = TicketStore(store: eventStore ?? EventStore(client: client, logger: logger))
    let agreements = AgreementCache(catalog: AgreementCatalog(store: tickets.store))
    let queries = TicketQueries(client: client)
    let commands = TicketCommands(tickets: tickets, histories: ticketHistories)
    let api = BatonAPIService(
        tickets: tickets, commands: commands,
        opener: TicketOpener(tickets: tickets, agreements: agreements, queries: queries, histories: ticketHistories), queries: queries,
        agreements: agreements, projectionsChanged: projectionsChanged, idempotency: IdempotencyKeys(client: client),
        leaseDesk: LeaseDesk(commands: commands, queries: queries, histories: ticketHistories, agreements: agreements, logger: logger, now: now), tokenCache: tokenCache, logger: logger, now: now)
    let configuration = OpenAPIRuntime.Configuration(dateTranscoder: RFC3339DateTranscoder())
    let transport = BatonServerTransport(base: router, routes: HandWrittenRoutes(api: api, configuration: configuration))
    try api.registerHandlers(on: transport, configuration: configuration)
    try transport.requireEveryRouteReplaced()
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "batond"),
        services: [tokenCache],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
        logger: logger)
}
