import BatonDomain
import Foundation
import Testing
@testable import BatonServer

@Suite("Lease expiry")
struct LeaseExpiryTests {
    @Test("a lease runs out on the first whole second at or after its length, an instant the log's text gives back exactly")
    func wholeSecond() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1_000 {
            let instant = Date(timeIntervalSince1970: Double.random(in: 1_600_000_000...2_000_000_000, using: &generator))
            let length = TimeInterval(Int.random(in: 1...86_400, using: &generator))
            let expiry = LeaseDesk.expiry(instant, plus: length)
            #expect(expiry.timeIntervalSinceReferenceDate == expiry.timeIntervalSinceReferenceDate.rounded())
            #expect(expiry >= instant.addingTimeInterval(length))
            #expect(expiry < instant.addingTimeInterval(length + 1))
            #expect(ISO8601Instant.parse(ISO8601Instant.format(expiry)) == expiry)
        }
        let whole = Date(timeIntervalSinceReferenceDate: 800_000_000)
        #expect(LeaseDesk.expiry(whole, plus: 600) == whole.addingTimeInterval(600))
    }
}
