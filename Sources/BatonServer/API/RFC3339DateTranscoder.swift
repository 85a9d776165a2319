import Foundation
import OpenAPIRuntime

/// Reads RFC 3339 instants with or without fractional seconds, and any UTC offset; writes
/// them in UTC with milliseconds, so an event's recorded-at keeps its sub-second order.
struct RFC3339DateTranscoder: DateTranscoder {
    private let fractional = ISO8601DateTranscoder.iso8601WithFractionalSeconds
    private let whole = ISO8601DateTranscoder.iso8601

    func encode(_ date: Date) throws -> String { try fractional.encode(date) }

    func decode(_ text: String) throws -> Date {
        if let date = try? fractional.decode(text) { return date }
        return try whole.decode(text)
    }
}
