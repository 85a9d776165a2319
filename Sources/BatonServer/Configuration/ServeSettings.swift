import Foundation
import Yams

/// `batond serve`'s settings, each taken from the first place that gives it: the command
/// line, then the environment, then the settings file, then the default.
///
/// | flag                 | environment             | file key         | default          |
/// |----------------------|-------------------------|------------------|------------------|
/// | `--host`             | `BATON_HOST`            | `host`           | 127.0.0.1        |
/// | `--port`             | `BATON_PORT`            | `port`           | 8080             |
/// | `--max-connections`  | `BATON_MAX_CONNECTIONS` | `maxConnections` | 10               |
/// | `--ticket-cache-mb`  | `BATON_TICKET_CACHE_MB` | `ticketCacheMB`  | 128              |
/// | `--agreements`       | `BATON_AGREEMENTS`      | `agreements`     | none             |
/// | `--no-migrate`       | `BATON_MIGRATE=false`   | `migrate`        | true             |
/// | `--example-tokens`   | `BATON_EXAMPLE_TOKENS`  | `exampleTokens`  | false            |
/// | `--database-url`     | `DATABASE_URL`          | `databaseURL`    | embedded cluster |
/// | `--data-dir`         | `BATON_DATA_DIR`        | `dataDir`        | .baton/postgres  |
public struct ServeSettings: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var maximumConnections = 10
    public var ticketCacheMB = 128
    public var agreements: String?
    public var migrate = true
    public var exampleTokens = false
    public var databaseURL: String?
    public var dataDirectory: String?

    /// What the command line said (nil: not given).
    public struct Flags: Sendable, Equatable {
        public var host: String?
        public var port: Int?
        public var maximumConnections: Int?
        public var ticketCacheMB: Int?
        public var agreements: String?
        public var noMigrate = false
        public var exampleTokens = false
        public var databaseURL: String?
        public var dataDirectory: String?

        public init() {}
    }

    /// A setting that could not be read, named as the user wrote it.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var source: String
        public var expected: String
        public var description: String { "\(source): expected \(expected)" }

        public init(source: String, expected: String) {
            self.source = source
            self.expected = expected
        }
    }

    public init() {}

    public static func resolve(flags: Flags, environment: [String: String], file: String?) throws -> ServeSettings {
        var fileValues: [String: Any] = [:]
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw Invalid(source: file, expected: "a readable YAML settings file")
            }
            guard let loaded = try? Yams.load(yaml: text), let mapping = loaded as? [String: Any] else {
                throw Invalid(source: file, expected: "a YAML mapping of settings such as `port: 8080`")
            }
            let known: Set = ["host", "port", "maxConnections", "ticketCacheMB", "agreements", "migrate", "exampleTokens", "databaseURL", "dataDir"]
            if let unknown = mapping.keys.sorted().first(where: { !known.contains($0) }) {
                throw Invalid(source: "\(file): \(unknown)", expected: "one of \(known.sorted().joined(separator: ", "))")
            }
            fileValues = mapping
        }
        func env(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        func int(_ key: String, file fileKey: String) throws -> Int? {
            if let text = env(key) {
                guard let value = Int(text) else { throw Invalid(source: key, expected: "an integer") }
                return value
            }
            guard let value = fileValues[fileKey] else { return nil }
            guard let number = value as? Int else { throw Invalid(source: "\(file ?? ""): \(fileKey)", expected: "an integer") }
            return number
        }
        func string(_ key: String, file fileKey: String) throws -> String? {
            if let text = env(key) { return text }
            guard let value = fileValues[fileKey] else { return nil }
            guard let text = value as? String else { throw Invalid(source: "\(file ?? ""): \(fileKey)", expected: "a string") }
            return text
        }
        func bool(_ key: String, file fileKey: String) throws -> Bool? {
            if let text = env(key) {
                switch text.lowercased() {
                case "1", "true", "yes", "on": return true
                case "0", "false", "no", "off": return false
                default: throw Invalid(source: key, expected: "true or false")
                }
            }
            guard let value = fileValues[fileKey] else { return nil }
            guard let flag = value as? Bool else { throw Invalid(source: "\(file ?? ""): \(fileKey)", expected: "true or false") }
            return flag
        }

        var s = ServeSettings()
        s.host = try flags.host ?? string("BATON_HOST", file: "host") ?? s.host
        s.port = try flags.port ?? int("BATON_PORT", file: "port") ?? s.port
        guard (0...65_535).contains(s.port) else { throw Invalid(source: "port", expected: "a TCP port from 0 to 65535") }
        s.maximumConnections = try flags.maximumConnections ?? int("BATON_MAX_CONNECTIONS", file: "maxConnections") ?? s.maximumConnections
        guard s.maximumConnections >= 4 else { throw Invalid(source: "max-connections", expected: "at least 4") }
        s.ticketCacheMB = try flags.ticketCacheMB ?? int("BATON_TICKET_CACHE_MB", file: "ticketCacheMB") ?? s.ticketCacheMB
        guard (0...(1 << 20)).contains(s.ticketCacheMB) else { throw Invalid(source: "ticket-cache-mb", expected: "MiB from 0 to 1048576") }
        s.agreements = try flags.agreements ?? string("BATON_AGREEMENTS", file: "agreements")
        s.migrate = flags.noMigrate ? false : try bool("BATON_MIGRATE", file: "migrate") ?? true
        s.exampleTokens = flags.exampleTokens ? true : try bool("BATON_EXAMPLE_TOKENS", file: "exampleTokens") ?? false
        s.databaseURL = try flags.databaseURL ?? string("DATABASE_URL", file: "databaseURL")
        s.dataDirectory = try flags.dataDirectory ?? string("BATON_DATA_DIR", file: "dataDir")
        return s
    }
}
