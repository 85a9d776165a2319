import BatonDomain
import Crypto
import Foundation
import Postgres

/// API tokens: created (the secret shown once), listed, revoked, and checked on each request.
///
/// A token is `baton_` followed by 43 characters of base64url: 256 random bits. Only its
/// SHA-256 is stored.
public struct TokenStore: Sendable {
    public let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// A stored token, without its secret.
    public struct Record: Sendable, Equatable {
        public var id: UUID
        public var name: String
        public var role: Principal.Role
        public var subject: String?
        /// The token's first characters.
        public var hint: String
        public var createdAt: Date
        public var createdBy: String
        public var revokedAt: Date?

        public var principal: Principal { Principal(tokenId: id, name: name, role: role, subject: subject) }
    }

    /// Why a token could not be created.
    public struct InvalidToken: Error, Sendable, Equatable, CustomStringConvertible {
        public var field: String
        public var problem: String
        public var description: String { "\(field): \(problem)" }
    }

    /// Creates a token and returns it with its record. The token is not stored and cannot be
    /// shown again.
    ///
    /// - Parameter subject: the login (agent, admin), vendor id (vendor) or source (ingest);
    ///   must be nil for an auditor. Lower-case letters, digits, `.`, `_`, `-` and `@`.
    public func create(role: Principal.Role, subject: String?, name: String, createdBy: String) async throws -> (token: String, record: Record) {
        try Self.validate(role: role, subject: subject, name: name)
        var random = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &random) }
        let token = "baton_" + Data(secret).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let id = UUID()
        let hint = String(token.prefix(12))
        let row = try await client.query("""
            INSERT INTO api_tokens (id, name, role, subject, token_hash, hint, created_by)
            VALUES (\(id), \(name), \(role.rawValue), \(subject), \(Self.hash(token)), \(hint), \(createdBy))
            RETURNING created_at
            """)[0]
        let record = Record(
            id: id, name: name, role: role, subject: subject, hint: hint, createdAt: try row.decode(Date.self, at: 0),
            createdBy: createdBy, revokedAt: nil)
        return (token, record)
    }

    /// Every token, newest first; revoked ones too unless `activeOnly`.
    public func list(activeOnly: Bool = false) async throws -> [Record] {
        try await client.query("""
            SELECT id, name, role, subject, hint, created_at, created_by, revoked_at FROM api_tokens
            WHERE \(!activeOnly) OR revoked_at IS NULL ORDER BY created_at DESC, id
            """).map(Self.record)
    }

    /// Revokes the token with this id, or whose id starts with `idPrefix` (at least 8
    /// characters, and naming exactly one token). Returns the record; revoking twice keeps
    /// the first revocation.
    public func revoke(idPrefix: String, revokedBy: String) async throws -> Record {
        let prefix = idPrefix.lowercased()
        guard prefix.count >= 8, prefix.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw InvalidToken(field: "id", problem: "\"\(idPrefix)\" is not a token id; give at least its first 8 characters, as `batond tokens list` shows them")
        }
        let matches = try await client.query("SELECT id FROM api_tokens WHERE id::text LIKE \(prefix + "%")")
        guard matches.count == 1 else {
            throw InvalidToken(field: "id", problem: matches.isEmpty ? "no token has an id starting \(prefix)" : "\(matches.count) tokens have ids starting \(prefix); give more characters")
        }
        let id = try matches[0].decode(UUID.self, at: 0)
        return try await client.query("""
            UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()), revoked_by = coalesce(revoked_by, \(revokedBy))
            WHERE id = \(id)
            RETURNING id, name, role, subject, hint, created_at, created_by, revoked_at
            """).map(Self.record)[0]
    }

    /// The principal a bearer token speaks for; nil when the token is unknown or revoked.
    public func authenticate(_ token: String) async throws -> Principal? {
        guard let hash = Self.hashIfWellFormed(token) else { return nil }
        return try await principal(tokenHash: hash)
    }

    /// The principal of the token with this SHA-256, if it is known and not revoked.
    func principal(tokenHash: [UInt8]) async throws -> Principal? {
        try await client.query("""
            SELECT id, name, role, subject, hint, created_at, created_by, revoked_at FROM api_tokens
            WHERE token_hash = \(PostgresBytes(tokenHash)) AND revoked_at IS NULL
            """).first.map(Self.record)?.principal
    }

    /// The SHA-256 of a token in Baton's form; nil for anything that cannot be one.
    static func hashIfWellFormed(_ token: String) -> [UInt8]? {
        guard token.hasPrefix("baton_"), token.utf8.count < 200 else { return nil }
        return Array(SHA256.hash(data: Array(token.utf8)))
    }

    // MARK: -

    static func hash(_ token: String) -> PostgresBytes {
        PostgresBytes(Array(SHA256.hash(data: Array(token.utf8))))
    }

    static func validate(role: Principal.Role, subject: String?, name: String) throws {
        if name.isBlank {
            throw InvalidToken(field: "name", problem: "is empty; say what the token is for, e.g. \"Northwind integration\"")
        }
        let what: String? =
            switch role {
            case .vendor: "a vendor id (--vendor)"
            case .ingest: "a source name (--source)"
            case .agent, .admin: "a login (--login)"
            case .auditor: nil
            }
        guard let what else {
            if subject != nil { throw InvalidToken(field: "subject", problem: "an auditor token speaks for no vendor, source or login") }
            return
        }
        guard let subject, !subject.isEmpty else {
            throw InvalidToken(field: "subject", problem: "\(role == .vendor ? "a" : "an") \(role.rawValue) token needs \(what)")
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-@")
        guard subject.count <= 64, subject.allSatisfy({ allowed.contains($0) }) else {
            throw InvalidToken(field: "subject", problem: "\"\(subject)\" is not \(what): use at most 64 lower-case letters, digits, '.', '_', '-' or '@'")
        }
    }

    private static func record(_ row: PostgresRow) throws -> Record {
        let roleName = try row.decode(String.self, at: 2)
        guard let role = Principal.Role(rawValue: roleName) else {
            throw InvalidToken(field: "role", problem: "the stored role \(roleName) is unknown to this batond")
        }
        return Record(
            id: try row.decode(UUID.self, at: 0), name: try row.decode(String.self, at: 1), role: role,
            subject: try row.decode(String?.self, at: 3), hint: try row.decode(String.self, at: 4),
            createdAt: try row.decode(Date.self, at: 5), createdBy: try row.decode(String.self, at: 6),
            revokedAt: try row.decode(Date?.self, at: 7))
    }
}
