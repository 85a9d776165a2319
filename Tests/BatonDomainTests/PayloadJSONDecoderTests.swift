import Foundation
import TestSupport
import Testing
@testable import BatonDomain

struct PayloadSample: Codable, Equatable {
    enum Kind: String, Codable { case one, two }
    enum Shape: Codable, Equatable {
        case circle(radius: Double)
        case square(side: Int, label: String?)
    }
    var text: String
    var count: Int
    var small: Int8
    var big: UInt64
    var ratio: Double
    var flag: Bool
    var when: Date
    var id: UUID
    var optional: String?
    var kind: Kind
    var shapes: [Shape]
    var nested: [[Int]]
    var table: [String: [String: Int]]
    var blob: Data
}

/// Foundation alone, dates included (not EventJSON.decoder, which parses instants with
/// ISO8601Instant): the independent oracle the tape decoder is held to.
private let foundation: JSONDecoder = {
    let d = JSONDecoder()
    d.dateDecodingStrategy = .custom { decoder in
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an ISO 8601 date")
    }
    return d
}()

@Suite("Payload JSON decoder")
struct PayloadJSONDecoderTests {
    static func randomString(_ rng: inout SplitMix64) -> String {
        let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "é", "€", "😀", "\u{7F}", "\u{2028}", "ß"]
        return String((0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
    }

    static func randomSample(_ rng: inout SplitMix64) -> PayloadSample {
        PayloadSample(
            text: randomString(&rng),
            count: Int.random(in: Int.min...Int.max, using: &rng),
            small: Int8.random(in: Int8.min...Int8.max, using: &rng),
            big: UInt64.random(in: 0...UInt64.max, using: &rng),
            ratio: Double.random(in: -1e12...1e12, using: &rng),
            flag: Bool.random(using: &rng),
            // Whole seconds since 2001 plus milliseconds: what a stored instant can hold exactly.
            when: Date(timeIntervalSinceReferenceDate: Double(Int.random(in: -3_000_000_000...2_000_000_000, using: &rng))
                + Double(Int.random(in: 0...999, using: &rng)) / 1000),
            id: UUID(),
            optional: Bool.random(using: &rng) ? nil : randomString(&rng),
            kind: Bool.random(using: &rng) ? .one : .two,
            shapes: (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                Bool.random(using: &rng) ? .circle(radius: Double.random(in: 0...10, using: &rng))
                    : .square(side: Int.random(in: -5...5, using: &rng), label: Bool.random(using: &rng) ? nil : randomString(&rng))
            },
            nested: [[], [Int.random(in: -9...9, using: &rng)], [1, 2, 3]],
            table: ["k" + randomString(&rng): [randomString(&rng): Int.random(in: 0...100, using: &rng)], "": [:]],
            blob: Data((0..<Int.random(in: 0...20, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }))
    }

    @Test("Decodes what Foundation's encoder writes exactly as Foundation's decoder does", arguments: [1, 2, 3, 4])
    func agreesWithFoundation(seed: UInt64) throws {
        var rng = SplitMix64(state: seed)
        let encoder = EventJSON.encoder
        for _ in 0..<250 {
            let sample = Self.randomSample(&rng)
            for data in [try encoder.encode(sample), try JSONEncoder().encode([sample.text]), try encoder.encode(["x": sample])] {
                if data.first == UInt8(ascii: "[") {
                    #expect(try PayloadJSONDecoder().decode([String].self, from: data) == foundation.decode([String].self, from: data))
                } else if data.starts(with: Array(#"{"x""#.utf8)) {
                    #expect(try PayloadJSONDecoder().decode([String: PayloadSample].self, from: data) == foundation.decode([String: PayloadSample].self, from: data))
                } else {
                    let ours = try PayloadJSONDecoder().decode(PayloadSample.self, from: data)
                    // Stored instants keep (truncated) milliseconds; everything else comes back exactly.
                    var expected = sample
                    expected.when = ours.when
                    #expect(ours == expected, "seed \(seed): \(String(decoding: data, as: UTF8.self))")
                    #expect(abs(ours.when.timeIntervalSince(sample.when)) < 0.0011)
                    #expect(ours == (try foundation.decode(PayloadSample.self, from: data)))
                }
            }
        }
    }

    @Test("Escapes, whitespace and number spellings decode as JSON says")
    func spellings() throws {
        let json = #" { "text" : "a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00" , "n" : [ -0 , 1E2 , 1.0e+1, 12 ] , "d" : -1.25e-3 } "#
        struct Doc: Decodable, Equatable { var text: String; var n: [Int]; var d: Double }
        let doc = try PayloadJSONDecoder().decode(Doc.self, from: Data(json.utf8))
        #expect(doc == Doc(text: "a\"b\\c/d\u{08}\u{0C}\n\r\té😀", n: [0, 100, 10, 12], d: -0.00125))
        #expect(doc == (try JSONDecoder().decode(Doc.self, from: Data(json.utf8))))
    }

    @Test("Malformed documents are errors, never crashes", arguments: [
        "", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[01]", "[1.]", "[-]", "[1e]", "tru", "nul", "[\"abc]",
        "\"\u{01}\"", "[\"\\x\"]", "[\"\\u12\"]", "[\"\\ud800\"]", "[\"\\udc00x\"]", "{} {}", "[1] x",
        String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
    ])
    func malformed(json: String) {
        #expect(throws: DecodingError.self) { try PayloadJSONDecoder().decode([String].self, from: Data(json.utf8)) }
        #expect(throws: (any Error).self) { try JSONDecoder().decode([String].self, from: Data(json.utf8)) }
    }

    @Test("Invalid UTF-8 inside a string is an error")
    func invalidUTF8() {
        let bytes: [UInt8] = Array(#"[""#.utf8) + [0xC3, 0x28] + Array(#""]"#.utf8)
        #expect(throws: DecodingError.self) { try PayloadJSONDecoder().decode([String].self, from: bytes) }
    }

    @Test("Errors carry the coding path and say what was expected")
    func errorPaths() throws {
        struct Inner: Decodable { var value: Int }
        struct Outer: Decodable { var items: [Inner] }
        let json = Data(#"{"items":[{"value":1},{"value":"two"}]}"#.utf8)
        #expect { try PayloadJSONDecoder().decode(Outer.self, from: json) } throws: { error in
            guard case .typeMismatch(_, let context) = error as? DecodingError else { return false }
            return context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue } == ["items", "1", "value"]
        }
        #expect { try PayloadJSONDecoder().decode(Outer.self, from: Data(#"{"items":[{}]}"#.utf8)) } throws: { error in
            guard case .keyNotFound(let key, let context) = error as? DecodingError else { return false }
            return key.stringValue == "value" && context.codingPath.count == 2
        }
        #expect { try PayloadJSONDecoder().decode(Outer.self, from: Data(#"{"items":[{"value":null}]}"#.utf8)) } throws: { error in
            guard case .valueNotFound = error as? DecodingError else { return false }
            return true
        }
        // Inside a nested container (an enum's associated values), the path is Foundation's.
        func path(_ error: any Error) -> [String]? {
            guard case .typeMismatch(_, let context) = error as? DecodingError else { return nil }
            return context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
        }
        let shapes = Data(#"[{"circle":{"radius":1}},{"square":{"side":"x"}}]"#.utf8)
        let ours = #expect(throws: DecodingError.self) { try PayloadJSONDecoder().decode([PayloadSample.Shape].self, from: shapes) }
        let theirs = #expect(throws: DecodingError.self) { try JSONDecoder().decode([PayloadSample.Shape].self, from: shapes) }
        #expect(ours.flatMap(path) == ["1", "square", "side"])
        #expect(ours.flatMap(path) == theirs.flatMap(path))
        #expect { try PayloadJSONDecoder().decode([Int8].self, from: Data("[128]".utf8)) } throws: { error in
            guard case .dataCorrupted = error as? DecodingError else { return false }
            return true
        }
    }

    @Test("Instants parse to exactly the Date Foundation's ISO 8601 parser gives")
    func instants() throws {
        var rng = SplitMix64(state: 42)
        let styles = [Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle()]
        for i in 0..<5_000 {
            let date = Date(timeIntervalSince1970: Double(Int64.random(in: -5_000_000_000_000...10_000_000_000_000, using: &rng)) / 1000)
            let text = date.formatted(styles[i % 2])
            let ours = Array(text.utf8).withUnsafeBytes { ISO8601Instant.parse($0) }
            let theirs = try Date(text, strategy: styles[i % 2])
            #expect(ours == theirs, "\(text)")
        }
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        func instant(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int) -> Date {
            utc.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s))!
        }
        let offsets: [(String, Date)] = [
            ("2026-03-10T16:00:00+01:00", instant(2026, 3, 10, 15, 0, 0)),
            ("2026-03-10T16:00:00.5-0230", instant(2026, 3, 10, 18, 30, 0) + 0.5),
            ("2024-02-29T23:59:59.999999Z", instant(2024, 2, 29, 23, 59, 59) + 0.999999),
            ("1969-12-31T23:59:59.250Z", Date(timeIntervalSince1970: -0.75)),
        ]
        for (text, expected) in offsets {
            let ours = Array(text.utf8).withUnsafeBytes { ISO8601Instant.parse($0) }
            #expect(ours.map { abs($0.timeIntervalSince(expected)) < 1e-6 } == true, "\(text)")
        }
        for text in ["2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00.Z"] {
            #expect(Array(text.utf8).withUnsafeBytes { ISO8601Instant.parse($0) } == nil, "\(text)")
        }
    }

    @Test("Instants are written as Foundation's ISO 8601 styles write them: UTC, milliseconds or whole seconds, truncated")
    func instantsFormatLikeFoundation() throws {
        var rng = SplitMix64(state: 42)
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for i in 0..<20_000 {
            let seconds = i % 2 == 0
                ? Double.random(in: -2_000_000_000...7_000_000_000, using: &rng)
                : Double(Int.random(in: -2_000_000_000...7_000_000_000, using: &rng)) + Double(Int.random(in: 0...999, using: &rng)) / 1000
            let date = i % 3 == 0 ? Date(timeIntervalSinceReferenceDate: seconds) : Date(timeIntervalSince1970: seconds)
            #expect(ISO8601Instant.format(date) == date.formatted(style), "\(seconds)")
            #expect(ISO8601Instant.formatWholeSeconds(date) == date.formatted(Date.ISO8601FormatStyle()), "\(seconds)")
            #expect(ISO8601Instant.parse(ISO8601Instant.format(date)).map { abs($0.timeIntervalSince(date)) < 0.0011 } == true)
        }
        // Far from today: before the Gregorian reform, around year 1 and 10000, and what an
        // offset carries past 0000 or 9999. Written as Foundation writes them, never a trap.
        let edges = [
            "1600-12-31T23:59:59.999Z", "1601-01-01T00:00:00Z", "1582-10-15T00:00:00Z", "1000-06-01T12:00:00Z",
            "0001-01-01T00:00:00Z", "0000-01-01T00:00:00+01:00", "9998-12-31T23:59:59.999Z", "9999-12-31T23:00:00-01:00",
        ]
        for text in edges {
            let date = try #require(ISO8601Instant.parse(text), "\(text)")
            #expect(date == (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(text, strategy: .iso8601)), "\(text)")
            #expect(ISO8601Instant.format(date) == date.formatted(style), "\(text)")
            #expect(ISO8601Instant.formatWholeSeconds(date) == date.formatted(Date.ISO8601FormatStyle()), "\(text)")
        }
    }
}
