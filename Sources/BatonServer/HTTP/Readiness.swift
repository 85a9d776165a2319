import BatonSchema
import EventStore
import Hummingbird
import Postgres

/// What `/readyz` reports: whether the database answers and the schema is current.
struct ReadinessReport: ResponseEncodable, Sendable, Equatable {
    var status: String
    var database: String
    var pendingMigrations: [String]
    var detail: String?

    var isReady: Bool { status == "ready" }
}

/// Checks readiness on demand.
struct Readiness: Sendable {
    let client: PostgresClient

    func check() async -> ReadinessReport {
        do {
            _ = try await client.query("SELECT 1")
        } catch {
            return ReadinessReport(status: "not ready", database: "unreachable", pendingMigrations: [], detail: "\(error)")
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
            return ReadinessReport(status: "not ready", database: "reachable", pendingMigrations: [], detail: "\(error)")
        }
    }
}
