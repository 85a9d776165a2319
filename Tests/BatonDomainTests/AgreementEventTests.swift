import Foundation
import Testing
@testable import BatonDomain

@Suite("Agreement events")
struct AgreementEventTests {
    /// Prairie registered with version 1, amended with version 2, then terminated at the end of 2026.
    static let stream: [AgreementEvent] = [
        .registered(AgreementRegistered(agreement: prairieV1)),
        .amended(AgreementAmended(agreement: prairieV2, summary: "P1 around the clock")),
        .terminated(AgreementTerminated(agreementId: "prairie-wan-lan", effectiveTo: at(2027, 1, 1, 0), reason: "contract ended")),
    ]

    @Test("Termination ends every version at the termination instant at the latest")
    func terminationCapsVersions() {
        let versions = AgreementEvent.versions(from: Self.stream)
        #expect(versions.map(\.version) == [1, 2])
        #expect(versions[0].effectiveTo == at(2026, 7, 1, 0))   // already ended earlier: unchanged
        #expect(versions[1].effectiveTo == at(2027, 1, 1, 0))   // open-ended: now ends at termination
    }

    @Test("Routing uses the terms in force at the instant: version 1, then version 2, then none after termination")
    func routingFollowsTheTermsInForce() {
        let versions = AgreementEvent.versions(from: Self.stream)
        let t = ticket(details(category: .wanLan))
        let june = route(t, agreements: versions, load: .none, at: at(2026, 6, 15, 10), defaultQueue: "service-desk")
        #expect(june.assignment.agreementVersion == 1)
        let august = route(t, agreements: versions, load: .none, at: at(2026, 8, 15, 10), defaultQueue: "service-desk")
        #expect(august.assignment.agreementVersion == 2)
        let after = route(t, agreements: versions, load: .none, at: at(2027, 1, 4, 10), defaultQueue: "service-desk")
        #expect(after.assignment == QueueAssignment(queue: "service-desk"))
        #expect(after.considerations.allSatisfy { $0.reason.code == "noLongerInForce" })
        #expect(after.considerations.last?.explanation
            == "Agreement prairie-wan-lan version 2 was skipped because it was no longer in force: its terms ended at 2027-01-01T06:00:00Z.")
    }

    @Test("Every agreement event round-trips through its type name and JSON")
    func roundTrip() throws {
        for e in Self.stream {
            let back = try AgreementEvent.decode(typeName: e.typeName, schemaVersion: e.schemaVersion, data: e.encodedData())
            #expect(back == e)
        }
        #expect(Self.stream.map(\.typeName) == ["AgreementRegistered", "AgreementAmended", "AgreementTerminated"])
    }

    @Test("Applying the same agreements again appends nothing; a new version is an amendment")
    func changesAreIdempotent() {
        #expect(AgreementEvent.changes(current: [], desired: [prairieV1]).map(\.typeName) == ["AgreementRegistered"])
        #expect(AgreementEvent.changes(current: [prairieV1], desired: [prairieV1]).isEmpty)
        #expect(AgreementEvent.changes(current: [prairieV1], desired: [prairieV1, prairieV2]).map(\.typeName) == ["AgreementAmended"])
    }
}
