import Foundation
import Testing

import BatonImport

@Suite("CSV reading")
struct CSVReaderTests {
    func records(_ text: String) throws -> (header: [String], records: [CSVRecord]) {
        let reader = try CSVReader(string: text)
        var out: [CSVRecord] = []
        while let r = try reader.next() { out.append(r) }
        return (reader.header, out)
    }

    @Test func plainFieldsAndHeader() throws {
        let (header, rows) = try records("a,b,c\n1,2,3\n4,,6\n")
        #expect(header == ["a", "b", "c"])
        #expect(rows == [CSVRecord(line: 2, fields: ["1", "2", "3"]), CSVRecord(line: 3, fields: ["4", "", "6"])])
    }

    @Test func quotedFieldsWithCommasQuotesAndNewlines() throws {
        let text = "id,text,n\r\n1,\"a, b\",x\r\n2,\"she said \"\"hi\"\"\",y\r\n3,\"two\nlines\",z\r\n4,\"\",\"\"\r\n"
        let (_, rows) = try records(text)
        #expect(rows.map(\.fields) == [
            ["1", "a, b", "x"], ["2", "she said \"hi\"", "y"], ["3", "two\nlines", "z"], ["4", "", ""],
        ])
        // The record after the quoted newline starts on line 6 (header 1, records 2, 3, 4–5).
        #expect(rows.map(\.line) == [2, 3, 4, 6])
    }

    @Test func lastLineWithoutNewlineAndEmptyLinesSkipped() throws {
        let (_, rows) = try records("a,b\n\n1,2\n\n3,4")
        #expect(rows == [CSVRecord(line: 3, fields: ["1", "2"]), CSVRecord(line: 5, fields: ["3", "4"])])
    }

    @Test func byteOrderMarkIsIgnored() throws {
        let (header, _) = try records("\u{FEFF}number,state\nINC1,New\n")
        #expect(header == ["number", "state"])
    }

    @Test func errorsNameTheLine() throws {
        #expect(throws: CSVError(line: 3, message: "a quoted field is not closed before the end of the file")) {
            try records("a,b\n1,2\n3,\"open\nstill open\n")
        }
        #expect(throws: CSVError(line: 3, message: "expected 2 fields, found 3")) {
            try records("a,b\n1,2\n3,4,5\n")
        }
        #expect(throws: CSVError(line: 2, message: "field 1: unexpected text after a closing quote")) {
            try records("a,b\n\"x\"y,2\n")
        }
        #expect(throws: CSVError(line: 2, message: "field 2: a quote inside an unquoted field (quote the whole field and double the quote)")) {
            try records("a,b\n1,x\"y\n")
        }
        #expect(throws: CSVError(line: 1, message: "the file is empty; expected a header line")) {
            try records("")
        }
    }

    @Test func readsAFileInChunksAcrossBoundaries() throws {
        // Over 64 KiB, with quoted line breaks and doubled quotes landing on chunk boundaries.
        var text = "n,text\r\n"
        for i in 0..<3000 { text += "\(i),\"line one \"\"\(i)\"\"\r\nline, two\"\r\n" }
        let url = FileManager.default.temporaryDirectory.appending(path: "csv-\(UUID().uuidString).csv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }

        let reader = try CSVReader(contentsOf: url)
        var count = 0
        while let r = try reader.next() {
            #expect(r.fields == ["\(count)", "line one \"\(count)\"\r\nline, two"])
            #expect(r.line == 2 + 2 * count)
            count += 1
        }
        #expect(count == 3000)
    }

    @Test func missingFileIsAnError() {
        #expect(throws: CSVError.self) { try CSVReader(contentsOf: URL(filePath: "/nonexistent/x.csv")) }
    }
}
