import BatonProjections
import Foundation
import Logging
import Metrics
import Postgres
import ServiceLifecycle

/// Sets `baton_queue_depth{queue=…}` (open tickets per queue, from the read model) every few
/// seconds.
struct QueueDepthSampler: Service {
    let client: PostgresClient
    let logger: Logger
    var interval: Duration = .seconds(5)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var seen = Set<String>()
            while !Task.isCancelled {
                do {
                    let rows = try await client.query("""
                        SELECT queue, sum(open_tickets)::bigint FROM rm_queue_load GROUP BY queue
                        """)
                    var now = Set<String>()
                    for row in rows {
                        let queue = try row.decode(String.self, at: 0)
                        now.insert(queue)
                        Gauge(label: "baton_queue_depth", dimensions: [("queue", queue)]).record(try row.decode(Int64.self, at: 1))
                    }
                    for queue in seen.subtracting(now) { Gauge(label: "baton_queue_depth", dimensions: [("queue", queue)]).record(0) }
                    seen.formUnion(now)
                } catch {
                    logger.debug("queue depths not sampled: \(error)")
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
