import Foundation
import TestSupport
import Testing
@testable import BatonDomain

@Suite("Hand-written payload JSON")
struct PayloadWritingTests {
    /// Every control character, the characters JSON escapes, slashes, and non-ASCII text.
    static let alphabet: [Character] = (0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }
        + ["a", "Z", "0", " ", "\"", "\\", "/", "\u{7F}", "é", "€", "😀", "\u{2028}", "ß", "\u{FEFF}"]

    static func text(_ rng: inout SplitMix64) -> String {
        String((0..<Int.random(in: 0...16, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
    }
    static func maybe(_ rng: inout SplitMix64) -> String? { Bool.random(using: &rng) ? nil : text(&rng) }

    static func details(_ rng: inout SplitMix64) -> TicketDetails {
        TicketDetails(
            source: text(&rng), externalReference: maybe(&rng), requester: text(&rng), site: maybe(&rng), department: maybe(&rng),
            category: TicketCategory.allCases.randomElement(using: &rng)!, subcategory: maybe(&rng),
            impact: Impact.allCases.randomElement(using: &rng)!, urgency: Urgency.allCases.randomElement(using: &rng)!,
            subject: text(&rng), description: text(&rng), channel: TicketChannel.allCases.randomElement(using: &rng)!)
    }

    static func assignment(_ rng: inout SplitMix64) -> QueueAssignment {
        QueueAssignment(
            queue: text(&rng), agreementId: maybe(&rng), agreementVersion: Bool.random(using: &rng) ? nil : Int.random(in: -5...Int.max, using: &rng),
            vendorId: maybe(&rng))
    }

    @Test("A string is written as Foundation's encoder writes it, with slashes escaped or not, wherever its escaped characters fall in long plain runs")
    func stringsAgreeWithFoundation() throws {
        var rng = SplitMix64(state: 7919)
        let plain: [Character] = ["a", "Z", "0", " ", "~", "\u{7F}", "é", "€", "😀", "\u{2028}"]
        let escaped: [Character] = (0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) } + ["\"", "\\", "/"]
        for escapingSlashes in [false, true] {
            let foundation = JSONEncoder()
            foundation.outputFormatting = escapingSlashes ? [] : [.withoutEscapingSlashes]
            for _ in 0..<3_000 {
                // Plain text, 0 to 40 characters, with none to three escaped ones anywhere.
                var characters = (0..<Int.random(in: 0...40, using: &rng)).map { _ in plain.randomElement(using: &rng)! }
                for _ in 0..<Int.random(in: 0...3, using: &rng) {
                    characters.insert(escaped.randomElement(using: &rng)!, at: Int.random(in: 0...characters.count, using: &rng))
                }
                let text = String(characters)
                var w = JSONObjectWriter(escapingSlashes: escapingSlashes)
                w.string(text)
                let theirs = [UInt8](try foundation.encode(text))
                #expect(w.bytes == theirs, "\(text.debugDescription): \(String(decoding: w.bytes, as: UTF8.self))")
            }
        }
        // Every byte value in every lane of a word: flagged exactly when it is escaped.
        for byte in UInt8.min...UInt8.max {
            for lane in 0..<8 {
                let word = UInt64(byte) << (8 * UInt64(lane)) | (UInt64(0x6161_6161_6161_6161) & ~(UInt64(0xFF) << (8 * UInt64(lane))))
                for slash in [UInt8(ascii: "/"), UInt8(ascii: "\"")] {
                    let escapes = byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == slash
                    #expect(JSONObjectWriter.mayEscape(word, slash: slash) == escapes, "\(byte) in lane \(lane)")
                }
            }
        }
    }

    @Test("TicketOpened, TicketRouted and TicketLeased are written byte for byte as Foundation's encoder writes them", arguments: [1, 2, 3])
    func agreesWithFoundation(seed: UInt64) throws {
        var rng = SplitMix64(state: seed &* 104_729)
        // Foundation alone (EventJSON.encoder writes dates with ISO8601Instant too).
        let foundation = JSONEncoder()
        foundation.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        foundation.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        for _ in 0..<300 {
            let opened = TicketOpened(
                ticketId: UUID(), number: "T-\(Int.random(in: 1000...9_999_999, using: &rng))", details: Self.details(&rng),
                priority: Priority.allCases.randomElement(using: &rng)!, prioritySource: Self.text(&rng))
            let routed = TicketRouted(
                assignment: Self.assignment(&rng), cause: RoutingCause.allCases.randomElement(using: &rng)!, summary: Self.text(&rng),
                trace: (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                    RoutingTraceLine(
                        outcome: Self.text(&rng), agreementId: Self.text(&rng),
                        agreementVersion: Bool.random(using: &rng) ? nil : Int.random(in: 1...20, using: &rng),
                        reason: Self.text(&rng), explanation: Self.text(&rng))
                })
            let leased = TicketLeased(
                holder: Actor(rawValue: "vendor:\(Int.random(in: 0...99, using: &rng))")!,
                expiresAt: Date(timeIntervalSinceReferenceDate: Double.random(in: -1e9...2e9, using: &rng)))
            for (event, payload) in [(TicketEvent.opened(opened), opened as any DomainEvent), (.routed(routed), routed), (.leased(leased), leased)] {
                let ours = try event.encodedData()
                let theirs = try foundation.encode(payload)
                #expect(ours == theirs, "\(String(decoding: ours, as: UTF8.self))\n\(String(decoding: theirs, as: UTF8.self))")
            }
        }
    }
}
