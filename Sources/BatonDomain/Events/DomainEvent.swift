import Foundation

/// A payload that is stored as JSON in the event store under a stable type name and schema version.
public protocol DomainEvent: Codable, Sendable, Hashable {
    /// The stored type name, e.g. `"TicketOpened"`. Never changes once events are stored.
    static var typeName: String { get }
    /// The current schema version of the payload. Bump it when the JSON shape changes, and
    /// keep decoding every older version in `decode(schemaVersion:data:)`.
    static var schemaVersion: Int { get }
    /// Decodes a stored payload of the given schema version (upcasting older versions).
    static func decode(schemaVersion: Int, data: Data) throws -> Self
}

extension DomainEvent {
    /// Version 1 unless the payload overrides it.
    public static var schemaVersion: Int { 1 }

    /// Decodes the current shape; override to upcast older schema versions.
    public static func decode(schemaVersion: Int, data: Data) throws -> Self {
        try PayloadJSONDecoder().decode(Self.self, from: data)
    }
}

/// An event with who caused it and when it happened in the domain.
///
/// These map onto the event store's `actor` and `occurredAt` columns; the payload itself goes
/// into `type`, `schemaVersion` and `data`. `occurredAt` may be in the past for imports.
public struct Stamped<Event: Sendable & Hashable>: Sendable, Hashable {
    /// The payload.
    public var event: Event
    /// When it happened (domain time).
    public var occurredAt: Date
    /// Who did it.
    public var actor: Actor

    /// Creates a stamped event.
    public init(_ event: Event, at occurredAt: Date, by actor: Actor) {
        self.event = event
        self.occurredAt = occurredAt
        self.actor = actor
    }
}

/// Why a stored event could not be decoded. Unknown types are values, never a crash.
public struct EventDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let raw: String
        /// The type name is not one this version of Baton knows.
        public static let unknownType = Code(raw: "unknownType")
        /// The schema version is newer than this version of Baton understands.
        public static let unsupportedSchemaVersion = Code(raw: "unsupportedSchemaVersion")
        /// The JSON does not match the payload's shape.
        public static let invalidData = Code(raw: "invalidData")
        public var description: String { raw }
    }

    /// What went wrong.
    public var code: Code
    /// The stored type name.
    public var typeName: String
    /// The stored schema version.
    public var schemaVersion: Int
    /// The decoder's message (may mention field names, never values).
    public var detail: String

    /// Creates an error.
    public init(code: Code, typeName: String, schemaVersion: Int, detail: String) {
        self.code = code
        self.typeName = typeName
        self.schemaVersion = schemaVersion
        self.detail = detail
    }

    public var description: String {
        switch code {
        case .unknownType: "unknown event type \(typeName) (schema version \(schemaVersion))"
        case .unsupportedSchemaVersion: "\(typeName) schema version \(schemaVersion) is newer than this build understands"
        default: "\(typeName) v\(schemaVersion) could not be decoded: \(detail)"
        }
    }
}

/// The JSON coding used for stored payloads: camelCase keys, sorted (so a payload's bytes are
/// stable for hashing), ISO 8601 dates with fractional seconds.
public enum EventJSON {
    /// The encoder for stored payloads.
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            // What `Date.ISO8601FormatStyle(includingFractionalSeconds: true)` writes, without
            // a calendar computation per date.
            try c.encode(ISO8601Instant.format(date))
        }
        return e
    }

    /// Foundation's decoder, set up to read stored payloads as ``PayloadJSONDecoder`` (which
    /// Baton decodes them with) does; for callers that need a `JSONDecoder`.
    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            guard let date = ISO8601Instant.parse(try c.decode(String.self)) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an ISO 8601 date")
            }
            return date
        }
        return d
    }

    static func decode<E: DomainEvent>(_ type: E.Type, schemaVersion: Int, data: Data) throws(EventDecodingError) -> E {
        guard schemaVersion <= E.schemaVersion, schemaVersion >= 1 else {
            throw EventDecodingError(code: .unsupportedSchemaVersion, typeName: E.typeName, schemaVersion: schemaVersion, detail: "")
        }
        return try reportingInvalidData(typeName: E.typeName, schemaVersion: schemaVersion) {
            try E.decode(schemaVersion: schemaVersion, data: data)
        }
    }

    /// Runs `body`, reporting what it throws as ``EventDecodingError/Code/invalidData``.
    static func reportingInvalidData<T>(typeName: String, schemaVersion: Int, _ body: () throws -> T) throws(EventDecodingError) -> T {
        do {
            return try body()
        } catch let error as DecodingError {
            throw EventDecodingError(code: .invalidData, typeName: typeName, schemaVersion: schemaVersion, detail: describe(error))
        } catch {
            throw EventDecodingError(code: .invalidData, typeName: typeName, schemaVersion: schemaVersion, detail: "\(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ c: [any CodingKey]) -> String {
            c.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let ctx): return "missing \(path(ctx.codingPath + [key]))"
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .dataCorrupted(let ctx):
            return "\(path(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
