import Hummingbird
import Logging
import NIOCore
import Postgres

/// Builds batond's HTTP application.
///
/// - `GET /healthz`: the process is up (never touches the database).
/// - `GET /readyz`: 200 when the database answers and migrations are applied, else 503,
///   with a JSON report either way.
public func buildApplication(
    client: PostgresClient, host: String, port: Int, logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router()
    router.get("/healthz") { _, _ in
        "ok\n"
    }
    let readiness = Readiness(client: client)
    router.get("/readyz") { _, _ -> EditedResponse<ReadinessReport> in
        let report = await readiness.check()
        return EditedResponse(status: report.isReady ? .ok : .serviceUnavailable, response: report)
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "batond"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
        logger: logger)
}
