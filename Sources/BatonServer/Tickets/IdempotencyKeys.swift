import Crypto
import Foundation
import Postgres

/// Binds each Idempotency-Key (as its command id) to the request it first came with.
public struct IdempotencyKeys: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// The key was used before for a different request: nothing was done.
    public struct Mismatch: Error, CustomStringConvertible {
        public var description: String {
            "Idempotency-Key was already used with a different request; send a new key for a new request"
        }
    }

    /// Records `request` for the command id, or checks it against the one recorded first.
    ///
    /// - Throws: ``Mismatch`` when the key came with a different request before.
    public func claim(_ commandId: UUID, request: String) async throws {
        let hash = Self.hash(request)
        // A command that recorded events while its key was not bound (freed after a refusal
        // while another request with the key was on its way, which then succeeded) is not
        // bound again: no request can be matched to what it recorded, so every one is refused.
        var rows = try await client.query("""
            WITH inserted AS (
                INSERT INTO idempotency_keys (command_id, request_hash)
                SELECT \(commandId), \(hash) WHERE NOT EXISTS (SELECT 1 FROM event_commands WHERE command_id = \(commandId))
                ON CONFLICT (command_id) DO NOTHING RETURNING request_hash
            )
            SELECT request_hash FROM inserted
            UNION ALL SELECT request_hash FROM idempotency_keys WHERE command_id = \(commandId)
            LIMIT 1
            """)
        if rows.first == nil {
            // Another request with this key (a retry racing the first try) inserted it and
            // committed while this statement waited on it: after this statement's snapshot,
            // so the SELECT above could not see it. A new statement does.
            rows = try await client.query("SELECT request_hash FROM idempotency_keys WHERE command_id = \(commandId)")
        }
        guard let stored = try rows.first?.decode(PostgresBytes.self, at: 0), stored == hash else { throw Mismatch() }
    }

    /// Frees the key of a refused request, which recorded nothing, so that a corrected request
    /// may be sent with it; returns whether it was freed.
    /// A key stays bound to `request` when its command recorded anything, an append of it still
    /// in flight included (the release waits for that append to end), and when it is bound to
    /// another request.
    @discardableResult
    public func release(_ commandId: UUID, request: String) async throws -> Bool {
        try await client.query("SELECT idempotency_key_release(\(commandId), \(Self.hash(request)))")
            .first?.decode(Bool.self, at: 0) ?? false
    }

    private static func hash(_ request: String) -> PostgresBytes {
        PostgresBytes(Array(SHA256.hash(data: Array(request.utf8))))
    }
}
