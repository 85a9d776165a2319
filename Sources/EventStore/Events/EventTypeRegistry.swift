/// Maps stored event types (name and schema version) to a typed event.
///
/// Register every (type, schema version) a reader understands, including old versions
/// (upcast them in `make`), so that an old event always still decodes. A type the registry
/// does not know comes back as ``DecodedEvent/unknown(type:schemaVersion:)``, never a crash.
public struct EventTypeRegistry<Event>: Sendable {
    private struct Key: Hashable {
        var type: String
        var schemaVersion: Int
    }

    private var decoders: [Key: @Sendable (RecordedEvent) throws -> Event] = [:]

    public init() {}

    /// Registers how to decode `type` at `schemaVersion`.
    public mutating func register<Payload: Decodable & SendableMetatype>(
        _ type: String, schemaVersion: Int = 1, as payload: Payload.Type,
        _ make: @escaping @Sendable (Payload) -> Event
    ) {
        decoders[Key(type: type, schemaVersion: schemaVersion)] = { make(try $0.decode(Payload.self)) }
    }

    /// Decodes `event`. Throws only when a known type's data does not decode.
    public func decode(_ event: RecordedEvent) throws -> DecodedEvent<Event> {
        guard let decoder = decoders[Key(type: event.type, schemaVersion: event.schemaVersion)] else {
            return .unknown(type: event.type, schemaVersion: event.schemaVersion)
        }
        return .known(try decoder(event))
    }
}

/// A stored event, typed if its reader knows it.
public enum DecodedEvent<Event> {
    case known(Event)
    /// A type (or schema version) this reader does not know, e.g. written by a newer batond.
    case unknown(type: String, schemaVersion: Int)
}

extension DecodedEvent: Sendable where Event: Sendable {}
extension DecodedEvent: Equatable where Event: Equatable {}
