import Foundation
import Postgres

/// The result of walking the hash chain.
public struct IntegrityReport: Sendable, Equatable, CustomStringConvertible {
    /// Where the chain first fails to hold.
    public struct Break: Sendable, Equatable {
        public var position: Int64
        public var reason: String
    }

    /// Events checked (up to the break, if any).
    public var eventCount: Int64
    /// The hash of the last event checked.
    public var headHash: [UInt8]
    public var firstBreak: Break?

    public var isIntact: Bool { firstBreak == nil }

    public var description: String {
        if let firstBreak {
            return "broken at position \(firstBreak.position): \(firstBreak.reason)"
        }
        return "intact, \(eventCount) events, head hash \(headHash.hexString)"
    }
}

extension EventStore {
    /// Walks the whole log in position order and recomputes every content hash and chain
    /// hash; reports the first position where they do not match, or where positions skip
    /// (an event was removed), or where the log ends short of its recorded head.
    public func verify(batchSize: Int = 5_000) async throws -> IntegrityReport {
        guard let head = try await client.query("SELECT position, hash FROM event_log_head").first else {
            return IntegrityReport(eventCount: 0, headHash: ContentHash.genesis, firstBreak: .init(position: 0, reason: "the log's head row is missing"))
        }
        let headPosition = try head.decode(Int64.self, at: 0)
        let recordedHeadHash = try head.decode(PostgresBytes.self, at: 1).bytes

        var previousHash = ContentHash.genesis
        var expectedPosition: Int64 = 1
        var count: Int64 = 0
        func broken(_ position: Int64, _ reason: String) -> IntegrityReport {
            IntegrityReport(eventCount: count, headHash: previousHash, firstBreak: .init(position: position, reason: reason))
        }

        while expectedPosition <= headPosition {
            let rows = try await client.query("""
                SELECT position, event_id, stream, stream_version, type, schema_version, data, occurred_at,
                       recorded_at, actor, correlation_id, causation_id, command_id, content_hash, hash
                FROM events WHERE position >= \(expectedPosition) AND position <= \(headPosition)
                ORDER BY position LIMIT \(batchSize)
                """)
            if rows.isEmpty {
                return broken(expectedPosition, "the log ends at position \(expectedPosition - 1) but its head records position \(headPosition): events were removed")
            }
            for row in rows {
                let position = try row.decode(Int64.self, at: 0)
                guard position == expectedPosition else {
                    return broken(expectedPosition, "the event at position \(expectedPosition) is missing (next is \(position))")
                }
                let streamVersion = try row.decode(Int64.self, at: 3)
                let contentHash = ContentHash.compute(
                    id: try row.decode(UUID.self, at: 1), stream: try row.decode(String.self, at: 2),
                    type: try row.decode(String.self, at: 4), schemaVersion: try row.decode(Int.self, at: 5),
                    data: try row.decode(PostgresRawJSON.self, at: 6).bytes,
                    occurredAtMicroseconds: try row.decode(PostgresTimestamp.self, at: 7).microsecondsSince1970,
                    actor: try row.decode(String.self, at: 9), correlationId: try row.decode(UUID?.self, at: 10),
                    causationId: try row.decode(UUID?.self, at: 11), commandId: try row.decode(UUID?.self, at: 12))
                guard contentHash == (try row.decode(PostgresBytes.self, at: 13).bytes) else {
                    return broken(position, "the event's content does not match its content hash: it was changed after it was appended")
                }
                let hash = ContentHash.chain(
                    previous: previousHash, contentHash: contentHash, position: position, streamVersion: streamVersion,
                    recordedAtMicroseconds: try row.decode(PostgresTimestamp.self, at: 8).microsecondsSince1970)
                guard hash == (try row.decode(PostgresBytes.self, at: 14).bytes) else {
                    return broken(position, "the event's hash does not follow from the previous event's hash and its own content")
                }
                previousHash = hash
                expectedPosition += 1
                count += 1
            }
        }
        guard previousHash == recordedHeadHash else {
            return broken(headPosition, "the last event's hash does not match the hash recorded in the log's head")
        }
        return IntegrityReport(eventCount: count, headHash: previousHash, firstBreak: nil)
    }
}
