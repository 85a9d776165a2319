import EventStore
import Foundation
import Postgres
import TestSupport
import Testing

func event(_ type: String = "TicketCommented", _ body: String = "hello", at instant: Date = Date()) -> NewEvent {
    NewEvent(type: type, data: Array(#"{"body":"\#(body)"}"#.utf8), occurredAt: instant, actor: "agent:ada")
}

@Suite("EventStore: appends")
struct AppendTests {
    @Test("8 writers with the same expected version: exactly one wins, 7 conflict, the stream grows by one, no position is burnt")
    func optimisticConcurrency() async throws {
        try await TestDatabase.withFresh(maximumConnections: 8) { db async throws in
            let store = db.eventStore
            _ = try await store.append(to: "ticket-1", expectedVersion: .noStream, events: [event()])
            let outcomes = try await withThrowingTaskGroup(of: Result<AppendResult, WrongExpectedVersion>.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        do {
                            return .success(try await store.append(to: "ticket-1", expectedVersion: .exact(1), events: [event("TicketCommented", "writer \(writer)")]))
                        } catch let conflict as WrongExpectedVersion {
                            return .failure(conflict)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let wins = outcomes.compactMap { try? $0.get() }
            let conflicts = outcomes.compactMap { if case .failure(let c) = $0 { c } else { nil } }
            #expect(wins.count == 1)
            #expect(conflicts.count == 7)
            #expect(conflicts.allSatisfy { $0.actual == 2 && $0.expected == .exact(1) })
            #expect(conflicts.first?.description == "stream ticket-1 is at version 2, expected 1")
            #expect(try await store.streamVersion("ticket-1") == 2)
            #expect(try await store.headPosition() == 2)
            #expect(wins.first?.positions == [2])
        }
    }

    @Test("noStream refuses an existing stream; exact refuses a missing one; any always appends")
    func expectedVersionKinds() async throws {
        try await TestDatabase.withFresh { db async throws in
            let store = db.eventStore
            let first = try await store.append(to: "ticket-7", expectedVersion: .noStream, events: [event(), event()])
            #expect(first.positions == [1, 2])
            #expect(first.streamVersion == 2)
            let again = await #expect(throws: WrongExpectedVersion.self) {
                try await store.append(to: "ticket-7", expectedVersion: .noStream, events: [event()])
            }
            #expect(again?.actual == 2)
            let missing = await #expect(throws: WrongExpectedVersion.self) {
                try await store.append(to: "ticket-8", expectedVersion: .exact(3), events: [event()])
            }
            #expect(missing?.actual == nil)
            let any = try await store.append(to: "ticket-7", expectedVersion: .any, events: [event()])
            #expect(any.streamVersion == 3)
            #expect(any.positions == [3])
            let stream = try await store.readStream("ticket-7")
            #expect(stream.map(\.streamVersion) == [1, 2, 3])
            #expect(stream.map(\.position) == [1, 2, 3])
        }
    }

    @Test("a retried command appends nothing and answers as the first time, even raced")
    func idempotentRetry() async throws {
        try await TestDatabase.withFresh(maximumConnections: 6) { db async throws in
            let store = db.eventStore
            let command = UUID()
            let events = [event("TicketOpened"), event("TicketRouted")]
            let first = try await store.append(to: "ticket-9", expectedVersion: .noStream, events: events, commandId: command)
            #expect(!first.isDuplicate)
            let retry = try await store.append(to: "ticket-9", expectedVersion: .noStream, events: events, commandId: command)
            #expect(retry.isDuplicate)
            #expect(retry.positions == first.positions)
            #expect(retry.streamVersion == first.streamVersion)
            #expect(try await store.headPosition() == 2)

            // Five racing retries of one new command: one append, all see the same positions.
            let raced = UUID()
            let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
                for _ in 0..<5 {
                    group.addTask { try await store.append(to: "ticket-10", expectedVersion: .any, events: [event()], commandId: raced) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(results.map(\.positions)).count == 1)
            #expect(results.filter { !$0.isDuplicate }.count == 1)
            #expect(try await store.streamVersion("ticket-10") == 1)
        }
    }

    @Test("concurrent appends share commits, yet each is answered alone: a bad one fails without taking the others down")
    func groupedAppendsFailAlone() async throws {
        try await TestDatabase.withFresh(maximumConnections: 4) { db async throws in
            let store = db.eventStore
            let reused = event()
            _ = try await store.append(to: "ticket-0", expectedVersion: .noStream, events: [reused])
            let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
                for writer in 0..<40 {
                    group.addTask {
                        // Writer 0 reuses an event id, which the store must refuse.
                        let events = writer == 0 ? [reused] : [event("TicketCommented", "\(writer)")]
                        let ok = (try? await store.append(to: "ticket-\(writer % 5 + 1)", expectedVersion: .any, events: events)) != nil
                        return (writer, ok)
                    }
                }
                return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            #expect(outcomes[0] == false)
            #expect(outcomes.filter { $0.value }.count == 39)
            #expect(try await store.headPosition() == 40)
            var total: Int64 = 0
            for stream in 1...5 { total += try await store.streamVersion("ticket-\(stream)") ?? 0 }
            #expect(total == 39)
            #expect(try await store.verify().isIntact)
        }
    }

    @Test("stored events carry their metadata and data byte for byte")
    func metadata() async throws {
        try await TestDatabase.withFresh { db async throws in
            let store = db.eventStore
            let correlation = UUID()
            let occurred = Date(microsecondsSince1970: 1_456_708_560_000_000)  // 2016-02-29 01:16 UTC
            let data = Array(#"{"z": 1, "a":  "spacing kept"}"#.utf8)
            let new = NewEvent(type: "TicketOpened", schemaVersion: 2, data: data, occurredAt: occurred, actor: "ingest:servicenow", correlationId: correlation, causationId: nil)
            let command = UUID()
            _ = try await store.append(to: "ticket-11", expectedVersion: .noStream, events: [new], commandId: command)
            let stored = try #require(try await store.readStream("ticket-11").first)
            #expect(stored.id == new.id)
            #expect(stored.type == "TicketOpened")
            #expect(stored.schemaVersion == 2)
            #expect(stored.data == data)
            #expect(stored.occurredAt == occurred)
            #expect(stored.actor == "ingest:servicenow")
            #expect(stored.correlationId == correlation)
            #expect(stored.causationId == nil)
            #expect(stored.commandId == command)
            #expect(abs(stored.recordedAt.timeIntervalSinceNow) < 60)
            #expect(stored.hash.count == 32)
        }
    }

    @Test("data long enough to be compressed is compressed with lz4 where PostgreSQL has it, and read back byte for byte")
    func compressedData() async throws {
        try await TestDatabase.withFresh { db async throws in
            // A routing trace's worth of JSON: past the size at which a row's values are compressed.
            let body = (0..<40).map { #"{"agreement":"northwind-desktop","outcome":"skipped","reason":"outside hours \#($0)"}"# }
            let data = Array(#"{"trace":[\#(body.joined(separator: ","))]}"#.utf8)
            #expect(data.count > 2_500)
            _ = try await db.eventStore.append(
                to: "ticket-13", expectedVersion: .noStream,
                events: [NewEvent(type: "TicketRouted", data: data, occurredAt: Date(), actor: "system")])
            #expect(try await db.eventStore.readStream("ticket-13").first?.data == data)
            // Where the server was built without lz4, the migration left the column on pglz.
            let supported = try await db.client.query(
                "SELECT count(*) FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")[0].decode(Int64.self, at: 0) == 1
            let method = try await db.client.query("SELECT pg_column_compression(data) FROM events WHERE stream = 'ticket-13'")[0].decode(String?.self, at: 0)
            #expect(method == (supported ? "lz4" : "pglz"))
        }
    }

    @Test("UPDATE, DELETE and TRUNCATE on events are refused, even for the owner")
    func immutability() async throws {
        try await TestDatabase.withFresh { db async throws in
            _ = try await db.eventStore.append(to: "ticket-12", expectedVersion: .noStream, events: [event()])
            for statement: PostgresQuery in [
                "UPDATE events SET actor = 'agent:mallory'", "DELETE FROM events", "TRUNCATE events",
            ] {
                let error = await #expect(throws: PostgresError.self) { try await db.client.execute(statement) }
                #expect(error?.sqlState == "BAT01")
                #expect(error?.message.contains("events are immutable") == true)
            }
            #expect(try await db.eventStore.headPosition() == 1)
            #expect(try await db.client.query("SELECT actor FROM events")[0].decode(String.self, at: 0) == "agent:ada")
        }
    }

    @Test("the application role reads the log and appends only through the append function")
    func applicationRole() async throws {
        try await TestDatabase.withFresh { db async throws in
            let rows = try await db.client.query("""
                SELECT privilege_type FROM information_schema.role_table_grants
                WHERE grantee = 'baton_app' AND table_name = 'events' ORDER BY privilege_type
                """)
            #expect(try rows.map { try $0.decode(String.self, at: 0) } == ["SELECT"])
            try await db.client.withConnection { connection in
                try await connection.executeScript("SET ROLE baton_app")
                // Appending through the store works...
                let result = try await db.eventStore.append(to: "ticket-role", expectedVersion: .noStream, events: [event()], on: connection)
                #expect(result.positions == [1])
                // ...writing the log's tables directly does not.
                for statement: PostgresQuery in [
                    "INSERT INTO events SELECT position + 1, gen_random_uuid(), stream, stream_version + 1, type, schema_version, data, occurred_at, recorded_at, actor, NULL, NULL, NULL, content_hash, hash FROM events",
                    "UPDATE event_log_head SET position = 0",
                    "DELETE FROM event_commands",
                ] {
                    let error = await #expect(throws: PostgresError.self) { try await connection.execute(statement) }
                    #expect(error?.sqlState == "42501", "\(statement.sql)")
                }
                // It may refresh a read model's statistics, and nothing else's.
                try await connection.execute("SELECT baton_analyze_read_model('rm_tickets')")
                #expect(try await connection.query("""
                    SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'rm_tickets'
                    """)[0].decode(Bool.self, at: 0))
                // ...and the log's, through the function made for it.
                try await connection.execute("SELECT baton_analyze_log()")
                #expect(try await connection.query("""
                    SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('events', 'event_streams', 'event_commands') AND last_analyze IS NOT NULL
                    """)[0].decode(Int64.self, at: 0) == 3)
                for table in ["events", "api_tokens", "rm_nonexistent"] {
                    let error = await #expect(throws: PostgresError.self) { try await connection.execute("SELECT baton_analyze_read_model(\(table))") }
                    #expect(error?.sqlState == "42501", "\(table)")
                }
                try await connection.executeScript("RESET ROLE")
            }
            #expect(try await db.eventStore.verify().isIntact)
        }
    }
}

@Suite("EventStore: typed decoding")
struct DecodingTests {
    struct Commented: Codable, Equatable, Sendable { var body: String }

    @Test("a type the reader does not know is surfaced as unknown, not a crash")
    func unknownTypes() async throws {
        try await TestDatabase.withFresh { db async throws in
            _ = try await db.eventStore.append(to: "ticket-1", expectedVersion: .any, events: [event("TicketCommented", "hi"), event("TicketTeleported")])
            var registry = EventTypeRegistry<Commented>()
            registry.register("TicketCommented", as: Commented.self) { $0 }
            let decoded = try await db.eventStore.readStream("ticket-1").map { try registry.decode($0) }
            #expect(decoded == [.known(Commented(body: "hi")), .unknown(type: "TicketTeleported", schemaVersion: 1)])
        }
    }
}
