import BatonAPI
import Foundation
import HTTPTypes
@_spi(Generated) import OpenAPIRuntime
import TestSupport
import Testing
@testable import BatonServer

@Suite("Hand-written answers to POST /v1/tickets and POST /v1/leases")
struct AnswerJSONTests {
    /// Every control character, the characters JSON escapes, slashes, and non-ASCII text.
    static let alphabet: [Character] = (0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }
        + ["a", "Z", "0", " ", "\"", "\\", "/", "\u{7F}", "é", "€", "😀", "\u{2028}", "ß", "\u{FEFF}"]

    struct Values {
        var rng: SplitMix64
        /// Every optional member present, for the test that the writer knows each one.
        var complete = false

        mutating func text() -> String {
            String((0..<Int.random(in: 0...12, using: &rng)).map { _ in AnswerJSONTests.alphabet.randomElement(using: &rng)! })
        }
        mutating func maybe<T>(_ make: (inout Values) -> T) -> T? { !complete && Bool.random(using: &rng) ? nil : make(&self) }
        mutating func instant() -> Date {
            // Milliseconds, as instants are kept; years 1601 to 2500.
            Date(timeIntervalSince1970: Double(Int64.random(in: -11_644_473_600_000...16_725_225_600_000, using: &rng)) / 1000)
        }
        mutating func minutes() -> Double {
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: 0
            case 1: Double(Int.random(in: 1...100_000, using: &rng))
            case 2: Double(Int.random(in: 1...10_000_000, using: &rng)) / 60
            case 3: Double.random(in: 0...1e-3, using: &rng)
            default: Double.random(in: 1e14...1e22, using: &rng)
            }
        }
        mutating func clock() -> Components.Schemas.Clock {
            Components.Schemas.Clock(
                id: text(), kind: Components.Schemas.Clock.KindPayload.allCases.randomElement(using: &rng)!, level: text(),
                priority: text(), startedAt: instant(), dueAt: maybe { $0.instant() }, stoppedAt: maybe { $0.instant() },
                status: Components.Schemas.Clock.StatusPayload.allCases.randomElement(using: &rng)!, pausedMinutes: maybe { $0.minutes() })
        }
        mutating func clocks() -> [Components.Schemas.Clock] {
            (0..<Int.random(in: complete ? 1...3 : 0...3, using: &rng)).map { _ in clock() }
        }
        mutating func opened() -> Components.Schemas.OpenedTicket {
            let ticket = self.ticket()
            let routing = Components.Schemas.Routing(
                queue: text(), agreementId: maybe { $0.text() }, agreementVersion: maybe { Int.random(in: 1...20, using: &$0.rng) },
                vendorId: maybe { $0.text() }, summary: text(),
                trace: (0..<Int.random(in: complete ? 1...4 : 0...4, using: &rng)).map { _ in text() })
            return Components.Schemas.OpenedTicket(ticket: ticket, routing: routing, clocks: clocks(), duplicate: Bool.random(using: &rng))
        }
        mutating func grant() -> Components.Schemas.LeaseGrant {
            Components.Schemas.LeaseGrant(leases: (0..<Int.random(in: complete ? 1...3 : 0...3, using: &rng)).map { _ in ticket() })
        }
        mutating func ticket() -> Components.Schemas.Ticket {
            Components.Schemas.Ticket(
                id: UUID().uuidString, number: "T-\(Int.random(in: 1000...9_999_999, using: &rng))",
                status: Components.Schemas.Ticket.StatusPayload.allCases.randomElement(using: &rng)!,
                priority: Components.Schemas.Ticket.PriorityPayload.allCases.randomElement(using: &rng)!,
                subject: text(), description: maybe { $0.text() }, category: text(), subcategory: maybe { $0.text() },
                requester: text(), site: maybe { $0.text() }, department: maybe { $0.text() }, source: text(),
                externalReference: maybe { $0.text() }, openedAt: instant(), queue: maybe { $0.text() },
                agreementId: maybe { $0.text() }, agreementVersion: maybe { Int.random(in: -5...Int.max, using: &$0.rng) },
                vendorId: maybe { $0.text() }, leaseHolder: maybe { $0.text() }, leaseExpiresAt: maybe { $0.instant() },
                holdReason: maybe { $0.text() }, firstRespondedAt: maybe { $0.instant() },
                escalationLevel: maybe { Int.random(in: 0...3, using: &$0.rng) }, version: Int.random(in: 1...500, using: &rng),
                clocks: maybe { $0.clocks() })
        }
    }

    /// The bytes the generated server writes: its own converter, configured as batond's.
    static func generated(_ value: some Encodable) async throws -> [UInt8] {
        let converter = Converter(configuration: .init(dateTranscoder: RFC3339DateTranscoder()))
        var headers = HTTPFields()
        let body = try converter.setResponseBodyAsJSON(value, headerFields: &headers, contentType: "application/json; charset=utf-8")
        return Array(try await ArraySlice<UInt8>(collecting: body, upTo: 1 << 20))
    }

    @Test("opened tickets and lease grants are written byte for byte as the generated server writes them", arguments: [1, 2, 3])
    func agreesWithGeneratedServer(seed: UInt64) async throws {
        var values = Values(rng: SplitMix64(state: seed &* 7_919))
        for _ in 0..<200 {
            let opened = values.opened()
            let ours = AnswerJSON.write(opened)
            let theirs = try await Self.generated(opened)
            #expect(ours == theirs, "\(String(decoding: ours, as: UTF8.self))\n\(String(decoding: theirs, as: UTF8.self))")
            let grant = values.grant()
            let ourGrant = AnswerJSON.write(grant)
            let theirGrant = try await Self.generated(grant)
            #expect(ourGrant == theirGrant, "\(String(decoding: ourGrant, as: UTF8.self))\n\(String(decoding: theirGrant, as: UTF8.self))")
        }
    }

    @Test("the writers write every member the API document gives an opened ticket, its ticket, routing and clocks, and a lease grant")
    func writesEveryMember() throws {
        var values = Values(rng: SplitMix64(state: 42), complete: true)
        let value = values.opened()
        func members(_ subject: Any) -> Set<String> { Set(Mirror(reflecting: subject).children.compactMap(\.label)) }
        let written = try #require(try JSONSerialization.jsonObject(with: Data(AnswerJSON.write(value))) as? [String: Any])
        #expect(Set(written.keys) == members(value))
        let ticket = try #require(written["ticket"] as? [String: Any])
        #expect(Set(ticket.keys) == members(value.ticket))
        let routing = try #require(written["routing"] as? [String: Any])
        #expect(Set(routing.keys) == members(value.routing))
        let clock = try #require((written["clocks"] as? [[String: Any]])?.first)
        #expect(Set(clock.keys) == members(value.clocks[0]))
        let grant = values.grant()
        let writtenGrant = try #require(try JSONSerialization.jsonObject(with: Data(AnswerJSON.write(grant))) as? [String: Any])
        #expect(Set(writtenGrant.keys) == members(grant))
    }
}
