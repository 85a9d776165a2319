import BatonSchema
import EventStore
import Hummingbird
import Logging
import Postgres

/// What `/readyz` reports: whether the database answers and the schema is current.
struct ReadinessReport: Encodable, Sendable, Equatable {
    var status: String
    var database: String
    var pendingMigrations: [String]
    var detail: String?

    var isReady: Bool { status == "ready" }
}

/// Checks readiness on demand.
struct Readiness: Sendable {
    let client: PostgresClient
    let logger: Logger

    func check() async -> ReadinessReport {
        do {
            _ = try await client.query("SELECT 1")
        } catch {
            // The reason (host, user, what the server said) goes to the log, not to callers.
            logger.warning("readiness: database unreachable", metadata: ["error": "\(error)"])
            return ReadinessReport(status: "not ready", database: "unreachable", pendingMigrations: [], detail: "the database does not answer; see batond's log")
        }
        do {
            let status = try await Migrator(client: client, migrations: BatonSchema.migrations).status()
            guard status.isUpToDate else {
                return ReadinessReport(
                    status: "not ready", database: "reachable", pendingMigrations: status.pending,
                    detail: "migrations are pending; run `batond migrate`")
            }
            return ReadinessReport(status: "ready", database: "reachable", pendingMigrations: [], detail: nil)
        } catch {
            logger.warning("readiness: schema check failed", metadata: ["error": "\(error)"])
            return ReadinessReport(status: "not ready", database: "reachable", pendingMigrations: [], detail: "the schema does not match this batond; see batond's log")
        }
    }
}
