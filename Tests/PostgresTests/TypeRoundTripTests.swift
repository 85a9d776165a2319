import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Postgres: values round-trip as parameters and columns")
struct TypeRoundTripTests {
    /// Sends `value` as a parameter, has the server echo it, and decodes it back.
    func echo<Value: PostgresEncodable & PostgresDecodable>(_ value: Value, on client: PostgresClient) async throws -> Value {
        let rows = try await client.query("SELECT \(value) AS value")
        return try rows[0].decode(Value.self, column: "value")
    }

    @Test("every supported scalar type survives the trip, including extremes")
    func scalars() async throws {
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            for value in [true, false] { #expect(try await echo(value, on: db.client) == value) }
            for value in [0, 1, -1, Int.max, Int.min] { #expect(try await echo(value, on: db.client) == value) }
            for value: Int64 in [42, .max, .min] { #expect(try await echo(value, on: db.client) == value) }
            for value: Int32 in [7, .max, .min] { #expect(try await echo(value, on: db.client) == value) }
            for value in [0.0, -2.5, 1e300, .pi, .infinity] { #expect(try await echo(value, on: db.client) == value) }
            #expect(try await echo(Double.nan, on: db.client).isNaN)
            let id = UUID()
            #expect(try await echo(id, on: db.client) == id)
            for text in ["", "plain", "Ünïcødé — 日本語 🎫", "line\nbreak\ttab", String(repeating: "x", count: 5_000_000)] {
                #expect(try await echo(text, on: db.client) == text)
            }
            let bytes = PostgresBytes((0..<4_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            #expect(try await echo(bytes, on: db.client) == bytes)
            #expect(try await echo(PostgresBytes([]), on: db.client) == PostgresBytes([]))
            let data = Data([0, 1, 2, 255])
            #expect(try await echo(data, on: db.client) == data)
        }
    }

    @Test("NULL binds and decodes as nil for every optional type; non-optional decoding names the column")
    func nulls() async throws {
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            let missing: String? = nil
            #expect(try await echo(missing, on: db.client) == nil)
            #expect(try await echo(Int?.none, on: db.client) == nil)
            #expect(try await echo(UUID?.none, on: db.client) == nil)
            #expect(try await echo(Date?.none, on: db.client) == nil)
            #expect(try await echo(Optional("x"), on: db.client) == "x")
            let row = try await db.client.query("SELECT NULL::int8 AS missing_count")[0]
            let error = #expect(throws: PostgresDecodingError.self) { try row.decode(Int.self, column: "missing_count") }
            #expect(error?.reason == .unexpectedNull)
            #expect(error?.description.contains("missing_count") == true)
        }
    }

    @Test("a type mismatch is an error that names the column and both types")
    func typeMismatch() async throws {
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            let row = try await db.client.query("SELECT 'abc'::text AS subject, 12::int4 AS priority")[0]
            let error = #expect(throws: PostgresDecodingError.self) { try row.decode(UUID.self, column: "subject") }
            #expect(error?.description == "column \"subject\" (index 0) is text and cannot be decoded as UUID")
            #expect(try row.decode(Int.self, at: 1) == 12)
            #expect(throws: PostgresError.self) { try row.decode(Int.self, column: "no_such_column") }
        }
    }

    @Test("timestamptz keeps microseconds and means the same instant whatever the session time zone")
    func timestamps() async throws {
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            let instant = Date(microsecondsSince1970: 1_764_417_600_123_456)  // 2025-11-29T12:00:00.123456Z
            for zone in ["UTC", "America/Chicago", "Asia/Kolkata", "Pacific/Chatham"] {
                let rows = try await db.client.withConnection { connection in
                    try await connection.execute("SELECT set_config('TimeZone', \(zone), false)")
                    return try await connection.query("""
                        SELECT \(instant) AS echoed, '2025-11-29 12:00:00.123456+00'::timestamptz AS literal,
                               to_char(\(instant) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS utc_text
                        """)
                }
                #expect(try rows[0].decode(Date.self, column: "echoed").microsecondsSince1970 == 1_764_417_600_123_456)
                #expect(try rows[0].decode(Date.self, column: "literal") == instant)
                #expect(try rows[0].decode(String.self, column: "utc_text") == "2025-11-29 12:00:00.123456")
            }
            let infinite = try await db.client.query("SELECT 'infinity'::timestamptz, '-infinity'::timestamptz")[0]
            #expect(try infinite.decode(Date.self, at: 0) == .distantFuture)
            #expect(try infinite.decode(Date.self, at: 1) == .distantPast)
        }
    }

    @Test("arrays, with and without NULL elements, and JSON documents round-trip")
    func arraysAndJSON() async throws {
        struct Ticket: Codable, Equatable, Sendable {
            var number: String
            var tags: [String]
        }
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            #expect(try await echo([1, 2, 3], on: db.client) == [1, 2, 3])
            #expect(try await echo([Int](), on: db.client) == [])
            #expect(try await echo(["a", "", "ü"], on: db.client) == ["a", "", "ü"])
            let ids = [UUID(), UUID()]
            #expect(try await echo(ids, on: db.client) == ids)
            let sparse: [UUID?] = [UUID(), nil, UUID()]
            #expect(try await echo(sparse, on: db.client) == sparse)
            let ticket = Ticket(number: "T-1042", tags: ["vpn", "urgent"])
            #expect(try await echo(PostgresJSON(ticket), on: db.client).value == ticket)
            let row = try await db.client.query("SELECT \(PostgresJSON(ticket)) ->> 'number' AS number, cardinality(\([true, false])) AS n")[0]
            #expect(try row.decode(String.self, column: "number") == "T-1042")
            #expect(try row.decode(Int.self, column: "n") == 2)
            let raw = PostgresRawJSON(bytes: Array(#"{"b": 1,  "a": [true]}"#.utf8))
            #expect(try await echo(raw, on: db.client) == raw)  // json keeps the text exactly
        }
    }

    @Test("a value that looks like SQL stays data")
    func injectionStaysData() async throws {
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            try await db.client.execute("CREATE TABLE notes (body text NOT NULL)")
            let hostile = "'); DROP TABLE notes; --"
            try await db.client.execute("INSERT INTO notes (body) VALUES (\(hostile))")
            let rows = try await db.client.query("SELECT body FROM notes WHERE body = \(hostile)")
            #expect(rows.count == 1)
            #expect(try rows[0].decode(String.self, at: 0) == hostile)
            let query: PostgresQuery = "SELECT \(hostile)"
            #expect(query.sql == "SELECT $1")
            #expect(query.description == "SELECT $1")
        }
    }
}
