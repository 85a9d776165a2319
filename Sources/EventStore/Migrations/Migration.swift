import Crypto

/// One numbered SQL file from `schema/`.
public struct Migration: Sendable, Equatable {
    /// The file name, e.g. `0001_event_store.sql`; migrations apply in name order.
    public var name: String
    public var sql: String

    public init(name: String, sql: String) {
        self.name = name
        self.sql = sql
    }

    /// SHA-256 of the SQL text, hex: an applied migration whose text changes is refused.
    public var checksum: String {
        Array(SHA256.hash(data: Array(sql.utf8))).hexString
    }
}
