import Foundation

/// Who did something: `system`, `ingest:<source>`, `agent:<login>`, `vendor:<id>`, `admin:<login>`.
///
/// Encoded as that string.
public struct Actor: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    /// The kind of principal.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case system, ingest, agent, vendor, admin
    }

    /// The full form, e.g. `vendor:northwind`.
    public let rawValue: String
    /// The kind.
    public let kind: Kind
    /// The name after the colon (empty for `system`).
    public let name: String

    /// Parses an actor; returns nil unless the kind is known and a name follows (except `system`).
    public init?(rawValue: String) {
        if rawValue == "system" {
            self.rawValue = rawValue
            kind = .system
            name = ""
            return
        }
        guard let colon = rawValue.firstIndex(of: ":"),
            let kind = Kind(rawValue: String(rawValue[..<colon])), kind != .system
        else { return nil }
        let name = String(rawValue[rawValue.index(after: colon)...])
        guard !name.isEmpty else { return nil }
        self.rawValue = rawValue
        self.kind = kind
        self.name = name
    }

    /// The system itself (timers, the SLA watcher, routing).
    public static let system = Actor(rawValue: "system")!
    /// An in-house agent.
    public static func agent(_ login: String) -> Actor { Actor(rawValue: "agent:\(login)")! }
    /// A vendor.
    public static func vendor(_ id: String) -> Actor { Actor(rawValue: "vendor:\(id)")! }
    /// An administrator.
    public static func admin(_ login: String) -> Actor { Actor(rawValue: "admin:\(login)")! }
    /// An ingest source.
    public static func ingest(_ source: String) -> Actor { Actor(rawValue: "ingest:\(source)")! }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let a = Actor(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(text) is not an actor"))
        }
        self = a
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
