@testable import BatonServer
import Foundation
import Logging
import Synchronization
import Testing

@Suite("batond's log lines")
struct LogLineHandlerTests {
    /// What swift-log's stream handler writes, with the instant left off.
    final class Captured: TextOutputStream, @unchecked Sendable {
        var text = ""
        func write(_ string: String) { text += string }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String { "disk full" }
    }

    @Test("lines read as swift-log's stream handler writes them, after the instant: metadata merged from the handler, the provider and the call, in key order, and the error")
    func linesLikeStreamLogHandler() throws {
        let provider = Logger.MetadataProvider { ["tenant": "riverside", "shared": "provided"] }
        let events: [LogEvent] = [
            LogEvent(level: .info, message: "request", metadata: ["status": "201", "shared": "explicit"], source: "BatonServer", file: #fileID, function: #function, line: 1),
            LogEvent(level: .warning, message: "no metadata of its own", metadata: nil, source: "EventStore", file: #fileID, function: #function, line: 2),
            LogEvent(level: .error, message: "append failed", error: Failure(), metadata: ["attempt": .stringConvertible(3), "list": ["a", "b"], "map": ["k": "v"]], source: "X", file: #fileID, function: #function, line: 3),
        ]
        for withProvider in [false, true] {
            for event in events {
                let captured = Captured()
                var stream = StreamLogHandler(label: "batond", stream: captured, metadataProvider: withProvider ? provider : nil)
                var ours = LogLineHandler(label: "batond", metadataProvider: withProvider ? provider : nil) { _ in }
                stream[metadataKey: "hb.request.id"] = "7"
                ours[metadataKey: "hb.request.id"] = "7"
                stream[metadataKey: "shared"] = "base"
                ours[metadataKey: "shared"] = "base"
                stream.log(event: event)
                let instant = Date(timeIntervalSince1970: 1_764_553_200.25)
                let line = ours.line(event, at: instant)
                #expect(line.hasPrefix("2025-12-01T01:40:00.250Z "))
                let theirs = try #require(captured.text.split(separator: " ", maxSplits: 1).last)
                #expect(line.split(separator: " ", maxSplits: 1).last == theirs)
            }
        }
    }

    @Test("metadata set on a handler reads back, and lines are written whole, one per event, through the output")
    func metadataAndOutput() {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "batond") { label in
            LogLineHandler(label: label, level: .notice) { line in lines.withLock { $0.append(line) } }
        }
        logger[metadataKey: "hb.request.id"] = "42"
        #expect(logger[metadataKey: "hb.request.id"] == "42")
        logger.info("below the level")
        logger.notice("at the level")
        logger[metadataKey: "hb.request.id"] = nil
        logger.error("after", metadata: ["ms": "1.5"])
        let written = lines.withLock { $0 }
        #expect(written.count == 2)
        #expect(written.first?.hasSuffix(" notice batond: hb.request.id=42 [BatonServerTests] at the level\n") == true)
        #expect(written.last?.hasSuffix(" error batond: ms=1.5 [BatonServerTests] after\n") == true)
    }
}
