import BatonAPI
import BatonDomain
import Foundation
import Hummingbird
import Testing
@testable import BatonServer

/// `POST /v1/tickets` and `POST /v1/leases` decode their bodies with `PayloadJSONDecoder`;
/// every other route with the runtime's `JSONDecoder`. A bad body must be described the same
/// either way.
@Suite("Request bodies decoded by hand")
struct RequestBodyDecodingTests {
    static let badTickets = [
        #"{"category":"help-desk","subject":"s"}"#,
        #"{"requester":"r","category":"help-desk","subject":7}"#,
        #"{"requester":"r","category":"plumbing","subject":"s"}"#,
        #"{"requester":"r","category":"help-desk","subject":null}"#,
        #"{"requester":"r","category":"help-desk","subject":"s","impact":"HIGH"}"#,
        #"{"requester":"r","category":"help-desk","subject":"s","priority":["P1"]}"#,
        #"["requester"]"#,
        #""ticket""#,
    ]
    static let badLeases = [#"{"max":"1"}"#, #"{"wait":true}"#, #"{"queue":{"name":"x"}}"#, "[]", "7"]

    /// How `RequestDecodingMiddleware` words `text`'s failure to decode as a `T`, by
    /// Foundation's decoder or by ``PayloadJSONDecoder``; "decoded" when it decodes.
    static func described<T: Decodable>(_ type: T.Type, _ text: String, foundation: Bool = false) -> String {
        do {
            let data = Data(text.utf8)
            _ = foundation ? try JSONDecoder().decode(T.self, from: data) : try PayloadJSONDecoder().decode(T.self, from: data)
            return "decoded"
        } catch {
            return RequestDecodingMiddleware<BasicRequestContext>.describe(error)
        }
    }

    /// Both decoders refuse `body`, in the same words.
    static func expectDescribedAlike<T: Decodable>(_ type: T.Type, _ body: String) {
        let foundation = described(T.self, body, foundation: true)
        #expect(foundation != "decoded")
        #expect(described(T.self, body) == foundation)
    }

    @Test("wrong types, missing fields, unknown enum values and wrong shapes are described as Foundation's decoder has them", arguments: badTickets)
    func openTicket(_ body: String) {
        Self.expectDescribedAlike(Components.Schemas.OpenTicketRequest.self, body)
    }

    @Test("lease requests of the wrong shape are described as Foundation's decoder has them", arguments: badLeases)
    func lease(_ body: String) {
        Self.expectDescribedAlike(Components.Schemas.LeaseRequest.self, body)
    }

    @Test("a fraction where a whole number is wanted names the field (Foundation's decoder calls it invalid JSON)")
    func fraction() {
        let body = #"{"max":1.5}"#
        #expect(Self.described(Components.Schemas.LeaseRequest.self, body) == "max: Number 1.5 does not fit in Int.")
    }

    @Test("a body that is not JSON at all names no field, and says where it broke")
    func notJSON() {
        for body in [#"{"max":1"#, "{max:1}", "\u{FF}"] {
            let ours = Self.described(Components.Schemas.LeaseRequest.self, body)
            #expect(ours.hasPrefix("a query parameter or field: The given data was not valid JSON"), "\(body): \(ours)")
        }
    }
}

@Suite("Finding %00 in a URI")
struct EncodedNulTests {
    @Test("holdsEncodedNul agrees with a plain substring search")
    func agreesWithSearch() {
        let pieces = ["%", "0", "00", "%0", "%00", "a", "/", "?q=", "%2500", "1"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3_000 {
            let uri = (0..<Int.random(in: 0...8, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            #expect(NulCharacterMiddleware<BasicRequestContext>.holdsEncodedNul(uri) == uri.contains("%00"), "\(uri)")
        }
        #expect(NulCharacterMiddleware<BasicRequestContext>.holdsEncodedNul("/v1/tickets/T-%001000"))
        #expect(!NulCharacterMiddleware<BasicRequestContext>.holdsEncodedNul("/v1/tickets?cursor=%0A0"))
    }
}
