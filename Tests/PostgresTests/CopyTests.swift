import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Postgres: binary COPY")
struct CopyTests {
    static let columns = ["id", "n", "big", "flag", "ratio", "name", "at", "note"]
    static let table = """
        CREATE TABLE copied (
            id uuid PRIMARY KEY, n integer NOT NULL, big bigint, flag boolean NOT NULL, ratio double precision NOT NULL,
            name text NOT NULL, at timestamptz, note text)
        """

    struct Row: Equatable {
        var id: UUID, n: Int32, big: Int64?, flag: Bool, ratio: Double, name: String, at: Date?, note: String?

        func append(to rows: inout PostgresCopyRows) {
            rows.startRow()
            rows.append(id); rows.append(n); rows.append(big); rows.append(flag)
            rows.append(ratio); rows.append(name); rows.append(at); rows.append(note)
        }

        init(id: UUID, n: Int32, big: Int64?, flag: Bool, ratio: Double, name: String, at: Date?, note: String?) {
            (self.id, self.n, self.big, self.flag, self.ratio, self.name, self.at, self.note) = (id, n, big, flag, ratio, name, at, note)
        }

        init(_ row: PostgresRow) throws {
            self.init(
                id: try row.decode(UUID.self, at: 0), n: try row.decode(Int32.self, at: 1), big: try row.decode(Int64?.self, at: 2),
                flag: try row.decode(Bool.self, at: 3), ratio: try row.decode(Double.self, at: 4), name: try row.decode(String.self, at: 5),
                at: try row.decode(Date?.self, at: 6), note: try row.decode(String?.self, at: 7))
        }
    }

    static func randomRow(_ i: Int, using generator: inout some RandomNumberGenerator) -> Row {
        let names = ["", "plain", "Ünïcødé — 日本語 🎫", "quote \" and \\ backslash", "line\nbreak\ttab", String(repeating: "y", count: 20_000)]
        return Row(
            id: UUID(), n: Int32.random(in: .min ... .max, using: &generator),
            big: Bool.random(using: &generator) ? nil : Int64.random(in: .min ... .max, using: &generator),
            flag: Bool.random(using: &generator), ratio: Double.random(in: -1e12...1e12, using: &generator),
            name: names[i % names.count],
            // Whole microseconds: what timestamptz keeps.
            at: Bool.random(using: &generator) ? nil : Date(microsecondsSince1970: Int64.random(in: -2_000_000_000_000_000...4_000_000_000_000_000, using: &generator)),
            note: i % 3 == 0 ? nil : "note \(i)")
    }

    @Test("rows of every column type, NULLs included, arrive as sent, and the count is returned")
    func roundTrip() async throws {
        try await TestDatabase.withFresh(migrated: false) { db async throws in
            try await db.client.execute(PostgresQuery(unsafeSQL: Self.table))
            var generator = SystemRandomNumberGenerator()
            // Enough rows for a stream of several megabytes, sent in slices.
            let sent = (0..<2_000).map { Self.randomRow($0, using: &generator) }
            var rows = PostgresCopyRows(columns: Self.columns)
            for row in sent { row.append(to: &rows) }
            #expect(rows.count == 2_000)
            let inserted = try await db.client.withConnection { try await $0.copy(into: "copied", rows) }
            #expect(inserted == 2_000)
            let read = try await db.client.query("SELECT \(unescaped: Self.columns.joined(separator: ", ")) FROM copied").map(Row.init)
            #expect(Dictionary(uniqueKeysWithValues: read.map { ($0.id, $0) }) == Dictionary(uniqueKeysWithValues: sent.map { ($0.id, $0) }))
            // No rows: nothing is sent.
            #expect(try await db.client.withConnection { try await $0.copy(into: "copied", PostgresCopyRows(columns: Self.columns)) } == 0)
        }
    }

    @Test("a value of the wrong type or a duplicate key fails the whole COPY, inserts nothing, and leaves the connection usable")
    func failures() async throws {
        try await TestDatabase.withFresh(migrated: false, maximumConnections: 1) { db async throws in
            try await db.client.execute(PostgresQuery(unsafeSQL: Self.table))
            var generator = SystemRandomNumberGenerator()
            let good = Self.randomRow(1, using: &generator)

            // bigint sent where the column is integer.
            var wrongType = PostgresCopyRows(columns: Self.columns)
            good.append(to: &wrongType)
            wrongType.startRow()
            wrongType.append(UUID()); wrongType.append(Int64(5)); wrongType.append(Int64?.none); wrongType.append(true)
            wrongType.append(1.0); wrongType.append("x"); wrongType.append(Date?.none); wrongType.append(String?.none)
            await #expect(throws: PostgresError.self) { try await db.client.withConnection { try await $0.copy(into: "copied", wrongType) } }

            var duplicate = PostgresCopyRows(columns: Self.columns)
            good.append(to: &duplicate)
            good.append(to: &duplicate)
            let error = await #expect(throws: PostgresError.self) { try await db.client.withConnection { try await $0.copy(into: "copied", duplicate) } }
            #expect(error?.sqlState == "23505")

            #expect(try await db.client.query("SELECT count(*) FROM copied")[0].decode(Int64.self, at: 0) == 0)

            // Inside a transaction the failure aborts it; the same connection then serves on.
            await #expect(throws: PostgresError.self) {
                try await db.client.withTransaction { try await $0.copy(into: "copied", duplicate) }
            }
            var one = PostgresCopyRows(columns: Self.columns)
            good.append(to: &one)
            #expect(try await db.client.withTransaction { try await $0.copy(into: "copied", one) } == 1)
            #expect(try await db.client.query("SELECT id FROM copied")[0].decode(UUID.self, at: 0) == good.id)
        }
    }
}
