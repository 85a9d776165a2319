import Foundation

/// Where `baton` finds its server and token: `BATON_URL` and `BATON_TOKEN` first, then the
/// file `baton login` writes, `$XDG_CONFIG_HOME/baton/config` (mode 0600).
struct Settings: Codable, Equatable {
    var server: String
    var token: String

    static var file: URL {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CONFIG_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config")
        return base.appendingPathComponent("baton/config")
    }

    /// The settings in force, or nil when neither the environment nor the file has them.
    static func current() -> Settings? {
        let environment = ProcessInfo.processInfo.environment
        let saved = (try? Data(contentsOf: file)).flatMap { try? JSONDecoder().decode(Settings.self, from: $0) }
        guard let server = environment["BATON_URL"] ?? saved?.server,
              let token = environment["BATON_TOKEN"] ?? saved?.token
        else { return nil }
        return Settings(server: server, token: token)
    }

    /// Writes the file, readable by its owner only.
    func save() throws {
        let url = Self.file
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        _ = FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600])
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: try encoder.encode(self))
        try handle.close()
        chmod(url.path, 0o600)
    }
}
