import BatonDomain
import Foundation

/// Tokens for trying Baton out: one per role, and one per vendor of the agreements in force.
/// Made afresh at each start of `batond serve --example-tokens`; the previous ones are
/// revoked, so they never pile up and a token printed yesterday no longer works.
public struct ExampleTokens: Sendable {
    /// Who made them, in the token list.
    public static let creator = "batond serve --example-tokens"

    public struct Issued: Sendable {
        public var label: String
        public var role: Principal.Role
        public var subject: String?
        public var token: String
    }

    let tokens: TokenStore

    public init(tokens: TokenStore) { self.tokens = tokens }

    public func issue(vendors: [String]) async throws -> [Issued] {
        for record in try await tokens.list(activeOnly: true) where record.createdBy == Self.creator {
            _ = try await tokens.revoke(idPrefix: record.id.uuidString, revokedBy: Self.creator)
        }
        var wanted: [(String, Principal.Role, String?)] = [
            ("admin", .admin, "admin"), ("agent", .agent, "ada"), ("auditor", .auditor, nil), ("ingest", .ingest, "portal"),
        ]
        for vendor in vendors { wanted.append(("vendor", .vendor, vendor)) }
        var issued: [Issued] = []
        for (label, role, subject) in wanted {
            let made = try await tokens.create(role: role, subject: subject, name: "example \(label) \(subject ?? "")".trimmingCharacters(in: .whitespaces), createdBy: Self.creator)
            issued.append(Issued(label: label, role: role, subject: subject, token: made.token))
        }
        return issued
    }

    /// The block `batond serve` prints: each token, and a first request to try.
    public static func describe(_ issued: [Issued], address: String) -> String {
        var lines = ["", "Example tokens (new at each start; the previous ones are revoked):"]
        for i in issued {
            let who = "\(i.label) \(i.subject ?? "")".padding(toLength: 26, withPad: " ", startingAt: 0)
            lines.append("  \(who) \(i.token)")
        }
        if let ingest = issued.first(where: { $0.role == .ingest }) {
            lines += [
                "", "Open a ticket:",
                "  curl -s -X POST \(address)/v1/tickets -H 'Authorization: Bearer \(ingest.token)' \\",
                "    -H 'Content-Type: application/json' \\",
                "    -d '{\"requester\":\"jdoe@riverside.gov\",\"category\":\"application-services\",\"subcategory\":\"permitting\",\"subject\":\"Permit portal rejects uploads\"}'",
                "", "See README.md (\"A tour\") for leasing it as the vendor, resolving it and reading its history.",
            ]
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }
}
