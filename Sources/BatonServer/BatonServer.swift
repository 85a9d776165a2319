import BatonDomain
import BatonProjections
import Foundation
import EventStore
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// Runs batond: opens the database (starting the embedded cluster when no URL is
/// configured), applies pending migrations unless told not to, serves HTTP until SIGTERM or
/// SIGINT (or until `stopped` returns; it must also return when its task is cancelled), then
/// shuts down gracefully and stops the cluster it started. When the configuration carries
/// agreements, they are applied (recorded as events) before serving.
public func runServer(
    configuration: ServerConfiguration, logger: Logger, metrics: PrometheusCollectorRegistry? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
    until stopped: (@Sendable () async -> Void)? = nil
) async throws {
    try await Database.with(configuration.database, maximumConnections: configuration.maximumConnections, logger: logger) { database in
        if configuration.migrateOnStart {
            try await database.migrateIfNeeded(logger: logger)
        }
        if let agreements = configuration.agreements {
            let changes = try await AgreementCatalog(store: database.eventStore).apply(agreements, actor: "system", at: Date())
            for change in changes {
                logger.info("agreements: \(change)")
            }
        }
        var examples: [ExampleTokens.Issued] = []
        if configuration.exampleTokens {
            let vendors = Set(try await AgreementCatalog(store: database.eventStore).agreements().compactMap(\.vendorId)).sorted()
            examples = try await ExampleTokens(tokens: TokenStore(client: database.client)).issue(vendors: vendors)
        }
        // Long-polling lease requests wake when any replica's projector applies new events.
        let projectionsChanged = ChangeSignal()
        let listener = await database.eventStore.listen(channels: [ProjectionRunner.notificationChannel], signalling: projectionsChanged)
        defer { listener.stop() }
        // Filled by the tickets projection as it folds, read by the lease path.
        let histories = TicketHistories(budget: configuration.ticketCacheBytes)
        let app = try buildApplication(
            client: database.client, host: configuration.host, port: configuration.port, logger: logger, metrics: metrics,
            projectionsChanged: projectionsChanged, eventStore: database.eventStore, ticketHistories: histories,
            onServerRunning: { [examples] port in
                if !examples.isEmpty {
                    let text = ExampleTokens.describe(examples, address: "http://\(configuration.host):\(port)")
                    FileHandle.standardOutput.write(Data((text + "\n").utf8))
                }
                await onServerRunning(port)
            })
        let projectors: [any Service] = Projections.all(store: database.eventStore, histories: histories).map {
            ProjectionRunner(projection: $0, store: database.eventStore, logger: logger)
        }
        let tickets = TicketStore(store: database.eventStore)
        let watcher = SLAWatcher(
            commands: TicketCommands(tickets: tickets, histories: histories), agreements: AgreementCache(catalog: AgreementCatalog(store: database.eventStore)),
            queries: TicketQueries(client: database.client), projectionsChanged: projectionsChanged, logger: logger)
        var services = ([app, watcher, QueueDepthSampler(client: database.client, logger: logger)] + projectors)
            .map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        if let stopped {
            // Last, so shut down first; its return shuts the others down as a signal would.
            services.append(.init(service: StopWhen(stopped: stopped), successTerminationBehavior: .gracefullyShutdownGroup))
        }
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // Long enough for a long-polling lease request (30 s at most) to be answered; what is
        // still running after that is cancelled.
        group.maximumGracefulShutdownDuration = .seconds(40)
        try await ServiceGroup(configuration: group).run()
        logger.info("batond stopped serving")
    }
}

/// Returns when `stopped` does, or when the group shuts down for another reason (by
/// cancelling `stopped`).
private struct StopWhen: Service {
    let stopped: @Sendable () async -> Void

    func run() async {
        await cancelWhenGracefulShutdown { await stopped() }
    }
}
