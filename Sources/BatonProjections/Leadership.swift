import Postgres

/// Exactly one leader among batond replicas for a named job (a projection, the SLA
/// watcher): whoever holds the session advisory lock `(namespace, hashtext(name))`.
///
/// The lock lives as long as the database session holding it, so when a replica dies its
/// lock goes with it and another replica's next attempt takes over.
public struct Leadership: Sendable {
    /// The first key of every Baton advisory lock.
    public static let namespace: Int32 = 0x6261_746f  // "bato"

    public let client: PostgresClient
    public let name: String

    public init(client: PostgresClient, name: String) {
        self.client = client
        self.name = name
    }

    /// Runs `body` with the session that holds the lock, if the lock is free; returns false
    /// at once if another session holds it. The lock is released when `body` returns or throws.
    @discardableResult
    public func leadIfFree(_ body: (PostgresConnection) async throws -> Void) async throws -> Bool {
        try await client.withConnection { session in
            let acquired = try await session.query("SELECT pg_try_advisory_lock(\(Self.namespace), hashtext(\(name)))")[0].decode(Bool.self, at: 0)
            guard acquired else { return false }
            do {
                try await body(session)
            } catch {
                _ = try? await session.query("SELECT pg_advisory_unlock(\(Self.namespace), hashtext(\(name)))")
                throw error
            }
            _ = try await session.query("SELECT pg_advisory_unlock(\(Self.namespace), hashtext(\(name)))")
            return true
        }
    }
}
