import Postgres

/// Named reader positions, updated by compare-and-swap.
///
/// Use the connection forms inside the transaction that updates a read model, so the model
/// and its checkpoint commit together: a crash then never applies an event twice or skips one.
public struct CheckpointStore: Sendable {
    public let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// The saved position of `name`, or `nil` if never saved.
    public func position(of name: String) async throws -> Int64? {
        try await client.withConnection { try await position(of: name, on: $0) }
    }

    public func position(of name: String, on connection: PostgresConnection) async throws -> Int64? {
        try await connection.query("SELECT position FROM event_checkpoints WHERE name = \(name)").first?.decode(Int64.self, at: 0)
    }

    /// Moves `name` from `expected` (nil: not saved yet) to `position`.
    ///
    /// - Throws: ``CheckpointConflict`` when the saved position is not `expected`: another
    ///   runner moved it, and this one must not apply its batch.
    public func save(_ name: String, from expected: Int64?, to position: Int64, on connection: PostgresConnection) async throws {
        let changed: Int
        if let expected {
            changed = try await connection.execute("""
                UPDATE event_checkpoints SET position = \(position), updated_at = now()
                WHERE name = \(name) AND position = \(expected)
                """)
        } else {
            changed = try await connection.execute("""
                INSERT INTO event_checkpoints (name, position) VALUES (\(name), \(position))
                ON CONFLICT (name) DO NOTHING
                """)
        }
        guard changed == 1 else {
            let actual = try await self.position(of: name, on: connection)
            throw CheckpointConflict(name: name, expected: expected, actual: actual)
        }
    }

    public func save(_ name: String, from expected: Int64?, to position: Int64) async throws {
        try await client.withConnection { try await save(name, from: expected, to: position, on: $0) }
    }
}

/// A checkpoint was not where its writer expected: another runner moved it.
public struct CheckpointConflict: Error, Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var expected: Int64?
    public var actual: Int64?

    public init(name: String, expected: Int64?, actual: Int64?) {
        self.name = name
        self.expected = expected
        self.actual = actual
    }

    public var description: String {
        "checkpoint \(name) is at \(actual.map(String.init) ?? "none"), expected \(expected.map(String.init) ?? "none")"
    }
}
