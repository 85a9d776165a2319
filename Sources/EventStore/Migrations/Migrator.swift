import Logging
import Postgres

/// Applies pending migrations in order, each in its own transaction, and records each one's
/// name and checksum in `schema_migrations`.
///
/// Refuses to run when an applied migration's text has changed, or when the database has a
/// migration this program does not know (it is newer). Concurrent migrators serialise on a
/// session advisory lock, so each migration applies exactly once.
public struct Migrator: Sendable {
    /// The advisory lock key migrators take ("baton-migrate").
    static let lockKey: Int64 = 0x6261_746f_6e6d_6967

    public let client: PostgresClient
    public let migrations: [Migration]
    let logger: Logger

    public init(client: PostgresClient, migrations: [Migration], logger: Logger = Logger(label: "baton.migrate")) {
        self.client = client
        self.migrations = migrations.sorted { $0.name < $1.name }
        self.logger = logger
    }

    /// Where the database stands against this program's migrations.
    public struct Status: Sendable, Equatable {
        public var applied: [String]
        public var pending: [String]

        public var isUpToDate: Bool { pending.isEmpty }
    }

    /// Compares the database with the known migrations without changing anything.
    ///
    /// - Throws: ``MigrationError`` when an applied migration changed or is unknown.
    public func status() async throws -> Status {
        try await client.withConnection { try await status(on: $0) }
    }

    /// Applies what is pending; returns the names applied (empty when up to date).
    @discardableResult
    public func migrate() async throws -> [String] {
        try await client.withConnection { connection in
            _ = try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))")
            do {
                let applied = try await applyPending(on: connection)
                _ = try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))")
                return applied
            } catch {
                // Closing the session would release it too; be explicit when we can.
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))")
                throw error
            }
        }
    }

    private func applyPending(on connection: PostgresConnection) async throws -> [String] {
        let pending = try await status(on: connection).pending
        var applied: [String] = []
        for name in pending {
            guard let migration = migrations.first(where: { $0.name == name }) else { continue }
            logger.info("applying migration", metadata: ["name": "\(name)"])
            try await connection.executeScript("BEGIN")
            do {
                try await connection.executeScript(migration.sql)
                try await connection.execute("""
                    INSERT INTO schema_migrations (name, checksum) VALUES (\(migration.name), \(migration.checksum))
                    """)
                try await connection.executeScript("COMMIT")
            } catch {
                try? await connection.executeScript("ROLLBACK")
                throw MigrationError(migration: name, reason: "failed: \(error)")
            }
            applied.append(name)
        }
        return applied
    }

    private func status(on connection: PostgresConnection) async throws -> Status {
        let ledgerExists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
            .first?.decode(Bool.self, at: 0) ?? false
        var recorded: [String: String] = [:]
        if ledgerExists {
            for row in try await connection.query("SELECT name, checksum FROM schema_migrations") {
                recorded[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1)
            }
        }
        for (name, checksum) in recorded.sorted(by: { $0.key < $1.key }) {
            guard let migration = migrations.first(where: { $0.name == name }) else {
                throw MigrationError(
                    migration: name,
                    reason: "is applied to the database but unknown to this batond; the database is newer: run a newer batond")
            }
            guard migration.checksum == checksum else {
                throw MigrationError(
                    migration: name,
                    reason: "was changed after it was applied (applied checksum \(checksum.prefix(12)), file now \(migration.checksum.prefix(12))); restore the original and put the change in a new migration")
            }
        }
        return Status(
            applied: migrations.map(\.name).filter { recorded[$0] != nil },
            pending: migrations.map(\.name).filter { recorded[$0] == nil })
    }
}

/// A migration could not be applied or checked.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public var migration: String
    public var reason: String

    public var description: String { "migration \(migration) \(reason)" }
}
