/// What an appender believes about a stream's version (its number of events).
public enum ExpectedVersion: Sendable, Hashable, CustomStringConvertible {
    /// Append whatever the stream's version.
    case any
    /// The stream must not exist yet.
    case noStream
    /// The stream must have exactly this many events (0 is the same as ``noStream``).
    case exact(Int64)

    public var description: String {
        switch self {
        case .any: "any"
        case .noStream: "no stream"
        case .exact(let version): "\(version)"
        }
    }
}

/// Another writer changed the stream first: the append added nothing.
public struct WrongExpectedVersion: Error, Sendable, Equatable, CustomStringConvertible {
    public var stream: String
    public var expected: ExpectedVersion
    /// The stream's actual version; `nil` when the stream does not exist.
    public var actual: Int64?

    public var description: String {
        "stream \(stream) is at version \(actual.map(String.init) ?? "none (it does not exist)"), expected \(expected)"
    }
}
