import BatonDomain
import Foundation
import OpenAPIRuntime

/// Reads RFC 3339 instants with or without fractional seconds, and any UTC offset; writes
/// them in UTC with milliseconds (truncated), as stored payloads write them, so an event's
/// recorded-at keeps its sub-second order. Without a formatter: Foundation's goes through ICU.
struct RFC3339DateTranscoder: DateTranscoder {
    func encode(_ date: Date) throws -> String { ISO8601Instant.format(date) }

    func decode(_ text: String) throws -> Date {
        guard let date = ISO8601Instant.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "Expected date string to be ISO8601-formatted."))
        }
        return date
    }
}
