import Foundation

/// One record of a CSV file: its fields, and the line it starts on (1-based, counting the
/// header as line 1, and counting the newlines inside quoted fields).
public struct CSVRecord: Sendable, Hashable {
    /// The line the record starts on.
    public var line: Int
    /// The fields, one per header column.
    public var fields: [String]

    /// Creates a record.
    public init(line: Int, fields: [String]) {
        self.line = line
        self.fields = fields
    }
}

/// A CSV file could not be read. `description` names the line.
public struct CSVError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The line where the problem is (1-based), nil when the file could not be opened.
    public var line: Int?
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(line: Int?, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}

/// Reads RFC 4180 CSV (comma-separated, fields optionally in double quotes, `""` for a quote
/// inside quotes, commas and line breaks allowed inside quotes, CRLF or LF line ends), one
/// record at a time, so memory stays flat however large the file is.
///
/// The first record is the header and gives the column names; every later record must have
/// as many fields. Completely empty lines are skipped. A UTF-8 byte order mark is ignored.
///
/// ```swift
/// let reader = try CSVReader(contentsOf: url)
/// let state = reader.columnIndex("incident_state")!
/// while let record = try reader.next() { print(record.line, record.fields[state]) }
/// ```
public final class CSVReader {
    /// The column names, from the first record.
    public private(set) var header: [String] = []

    private let source: ByteSource
    private var buffer: [UInt8] = []
    private var position = 0
    private var line = 1
    private var finished = false

    /// Opens a file and reads its header.
    public convenience init(contentsOf url: URL) throws(CSVError) {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw CSVError(line: nil, message: "cannot open \(url.path): \(error.localizedDescription)")
        }
        try self.init(source: FileSource(handle: handle))
    }

    /// Reads CSV text held in memory (for small inputs and tests) and its header.
    public convenience init(string: String) throws(CSVError) {
        try self.init(source: MemorySource(bytes: Array(string.utf8)))
    }

    private init(source: ByteSource) throws(CSVError) {
        self.source = source
        guard let first = try readRecord() else { throw CSVError(line: 1, message: "the file is empty; expected a header line") }
        var names = first.fields
        if let bom = names.first, bom.hasPrefix("\u{FEFF}") { names[0] = String(bom.dropFirst()) }
        header = names
    }

    /// The index of the column with this name in the header, if any.
    public func columnIndex(_ name: String) -> Int? { header.firstIndex(of: name) }

    /// The next record, or nil at the end of the file.
    /// - Throws: ``CSVError`` naming the line of a malformed record (an unterminated quote,
    ///   text after a closing quote, a quote inside an unquoted field, the wrong number of
    ///   fields, invalid UTF-8).
    public func next() throws(CSVError) -> CSVRecord? {
        guard let record = try readRecord() else { return nil }
        guard record.fields.count == header.count else {
            throw CSVError(line: record.line, message: "expected \(header.count) fields, found \(record.fields.count)")
        }
        return record
    }

    // MARK: - Parsing

    private static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")

    private func nextByte() -> UInt8? {
        if position == buffer.count {
            guard !finished, let chunk = source.read(), !chunk.isEmpty else {
                finished = true
                return nil
            }
            buffer = chunk
            position = 0
        }
        defer { position += 1 }
        return buffer[position]
    }

    private func peekByte() -> UInt8? {
        guard let b = nextByte() else { return nil }
        position -= 1
        return b
    }

    private enum State { case fieldStart, unquoted, quoted, afterQuote }

    private func readRecord() throws(CSVError) -> CSVRecord? {
        var fields: [String] = []
        var field: [UInt8] = []
        var state = State.fieldStart
        var start = line
        var sawAnything = false

        func endField() throws(CSVError) {
            guard let text = String(validating: field, as: UTF8.self) else {
                throw CSVError(line: line, message: "field \(fields.count + 1) is not valid UTF-8")
            }
            fields.append(text)
            field.removeAll(keepingCapacity: true)
        }

        while let b = nextByte() {
            switch state {
            case .fieldStart, .unquoted, .afterQuote:
                if b == Self.comma {
                    try endField()
                    sawAnything = true
                    state = .fieldStart
                } else if b == Self.lf || b == Self.cr {
                    if b == Self.cr, peekByte() == Self.lf { _ = nextByte() }
                    line += 1
                    if !sawAnything && state == .fieldStart {
                        start = line  // an empty line: skip it
                        continue
                    }
                    try endField()
                    return CSVRecord(line: start, fields: fields)
                } else if state == .afterQuote {
                    throw CSVError(line: line, message: "field \(fields.count + 1): unexpected text after a closing quote")
                } else if b == Self.quote {
                    if state == .unquoted {
                        throw CSVError(line: line, message: "field \(fields.count + 1): a quote inside an unquoted field (quote the whole field and double the quote)")
                    }
                    state = .quoted
                    sawAnything = true
                } else {
                    field.append(b)
                    state = .unquoted
                    sawAnything = true
                }
            case .quoted:
                if b == Self.quote {
                    if peekByte() == Self.quote {
                        _ = nextByte()
                        field.append(b)
                    } else {
                        state = .afterQuote
                    }
                } else {
                    if b == Self.lf || (b == Self.cr && peekByte() != Self.lf) { line += 1 }
                    field.append(b)
                }
            }
        }
        if state == .quoted { throw CSVError(line: start, message: "a quoted field is not closed before the end of the file") }
        guard sawAnything else { return nil }
        try endField()
        return CSVRecord(line: start, fields: fields)
    }
}

/// Where the reader's bytes come from, a chunk at a time.
private protocol ByteSource: AnyObject {
    /// The next chunk, or nil at the end.
    func read() -> [UInt8]?
}

/// Reads a file in 64 KiB chunks.
private final class FileSource: ByteSource {
    let handle: FileHandle
    init(handle: FileHandle) { self.handle = handle }
    deinit { try? handle.close() }
    func read() -> [UInt8]? {
        guard let data = try? handle.read(upToCount: 1 << 16), !data.isEmpty else { return nil }
        return [UInt8](data)
    }
}

/// Bytes already in memory.
private final class MemorySource: ByteSource {
    var bytes: [UInt8]?
    init(bytes: [UInt8]) { self.bytes = bytes }
    func read() -> [UInt8]? {
        defer { bytes = nil }
        return bytes
    }
}
