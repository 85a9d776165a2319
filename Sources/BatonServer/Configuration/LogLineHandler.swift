import BatonDomain
import Foundation
import Logging

/// batond's log lines: `instant level label: key=value … [source] message`, one a line, the
/// metadata in key order, the instant in UTC with milliseconds.
///
/// The lines of swift-log's `StreamLogHandler`, but for when the metadata is put into words.
/// `StreamLogHandler` does it whenever metadata is set, and Hummingbird sets the request id
/// on every request's logger: 1% of batond's work under load, for lines that, at the usual
/// level, were never written. Here it is done only for a line written.
public struct LogLineHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: @Sendable (String) -> Void

    /// A handler writing each line whole with `output`.
    public init(
        label: String, level: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil,
        output: @escaping @Sendable (String) -> Void
    ) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
        self.output = output
    }

    /// A handler writing to standard error, each line with one `write` where the system
    /// takes it whole, so lines from several threads do not interleave.
    public static func standardError(label: String, level: Logger.Level) -> LogLineHandler {
        LogLineHandler(label: label, level: level, metadataProvider: LoggingSystem.metadataProvider) { line in
            var line = line
            line.withUTF8 { bytes in
                var rest = UnsafeRawBufferPointer(bytes)
                while !rest.isEmpty {
                    let written = write(STDERR_FILENO, rest.baseAddress, rest.count)
                    if written < 0, errno == EINTR { continue }
                    guard written > 0 else { return }
                    rest = UnsafeRawBufferPointer(rebasing: rest[written...])
                }
            }
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        output(line(event, at: Date()))
    }

    /// The line written for `event` at `instant`, with its final newline.
    func line(_ event: LogEvent, at instant: Date) -> String {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, provided in provided }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            merged.merge(explicit) { _, explicit in explicit }
        }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line = ISO8601Instant.format(instant)
        line += " \(event.level)"
        if !label.isEmpty { line += " \(label)" }
        line += ":"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(value)"
        }
        line += " [\(event.source)] \(event.message)\n"
        return line
    }
}
