import BatonAgreementFiles
import BatonDomain
import BatonProjections
import BatonServer
import EventStore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("The agreement log")
struct AgreementLogTests {
    /// Under C, `stream LIKE 'agreement-%'` is a range of the (stream, stream_version) index;
    /// under any other collation (C.UTF-8, en_US.UTF-8, …) it is not, and only the partial
    /// index of schema/0019 keeps the read from going through the whole log.
    @Test("the agreements and the policy are read through their own index, never through the whole log, and as of any position",
          arguments: ["C", "C.UTF-8"])
    func readThroughItsIndex(locale: String) async throws {
        let set = try AgreementsFile.load(contentsOf: exampleAgreements)
        try await TestDatabase.withFresh(maximumConnections: 2, locale: locale) { db async throws in
            // A log of 20,000 ticket events around the agreements, and a stream whose name
            // only looks alike: enough that reading the whole log is the costlier plan.
            let store = db.eventStore
            func appendTickets(_ count: Int) async throws {
                for _ in 0..<(count / 1_000) {
                    let appends = (0..<1_000).map { i in
                        EventStore.Append(to: "ticket-\(UUID())", expectedVersion: .noStream, events: [
                            NewEvent(type: "Noted", data: Array(#"{"n":\#(i)}"#.utf8), occurredAt: monday, actor: "test")])
                    }
                    _ = try await db.client.withTransaction { try await store.append(appends, on: $0) }
                }
            }
            try await appendTickets(10_000)
            _ = try await store.append(to: "agreementsheet", expectedVersion: .noStream, events: [
                NewEvent(type: "Noted", data: Array("{}".utf8), occurredAt: monday, actor: "test")])
            let beforePolicy = try await store.headPosition()
            _ = try await AgreementCatalog(store: store).apply(set, actor: "admin:root", at: monday)
            let applied = try await store.headPosition()
            try await appendTickets(10_000)
            try await db.client.execute("ANALYZE events")

            let agreementEvents = try await db.client.query(
                "SELECT count(*) FROM events WHERE stream = 'service-policy' OR stream LIKE 'agreement-%'")[0].decode(Int64.self, at: 0)
            #expect(agreementEvents > 1)
            for generic in [false, true] {
                try await db.client.withTransaction(genericPlans: generic) { connection in
                    // This backend's scans of the log, counted as they happen (and not flushed
                    // to the statistics while a transaction is open).
                    let scans = {
                        let row = try await connection.query("""
                            SELECT seq_tup_read + idx_tup_fetch, pg_stat_get_xact_numscans('events_agreement_log'::regclass)
                            FROM pg_stat_xact_user_tables WHERE relname = 'events'
                            """)[0]
                        return [try row.decode(Int64.self, at: 0), try row.decode(Int64.self, at: 1)]
                    }
                    let before = try await scans()
                    let now = try #require(try await AgreementLog.agreementSet(on: connection))
                    #expect(now.agreements.map(\.id).sorted() == set.agreements.map(\.id).sorted())
                    #expect(now.defaultQueue == set.defaultQueue)
                    #expect(try await AgreementLog.agreementSet(upTo: applied, on: connection) == now)
                    #expect(try await AgreementLog.agreementSet(upTo: beforePolicy, on: connection) == nil)
                    let timeline = try await AgreementLog.timeline(upTo: applied, on: connection)
                    #expect(timeline.set(at: beforePolicy) == nil)
                    #expect(timeline.set(at: applied) == now)
                    let after = try await scans()
                    // The rows read: the agreements' events, not the log's 20,000.
                    #expect(after[0] - before[0] < 1_000, "the log was read")
                    // Four reads, each one scan of the agreements' index. (Planning may probe the
                    // primary key for the log's last position too.)
                    #expect(after[1] - before[1] == 4)
                }
            }
        }
    }
}
