import Foundation

/// A program started with posix_spawn, its output captured to a file, waited for on a
/// thread of its own (so a test never blocks Swift's cooperative pool).
///
/// `@unchecked Sendable`: `pid` and `outputPath` never change; the process is waited for once.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private let outputPath: String

    /// Starts `executable` with `arguments`, in the current environment changed by
    /// `environment` (a nil value removes the variable).
    public init(_ executable: String, _ arguments: [String], environment: [String: String?] = [:]) throws {
        outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("baton-child-\(UUID().uuidString).log").path
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = env.map { strdup("\($0.key)=\($0.value)") }
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let result = (argv + [nil]).withUnsafeBufferPointer { a in
            (envp + [nil]).withUnsafeBufferPointer { e in
                posix_spawn(&pid, executable, &actions, nil, UnsafeMutablePointer(mutating: a.baseAddress!), UnsafeMutablePointer(mutating: e.baseAddress!))
            }
        }
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL) }
        self.pid = pid
    }

    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the program to end; returns its exit status (128+N for signal N) and output.
    public func wait() async -> (status: Int32, output: String) {
        let pid = self.pid
        let status: Int32 = await withCheckedContinuation { continuation in
            Thread {
                var raw: Int32 = 0
                while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f))
            }.start()
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        unlink(outputPath)
        return (status, output)
    }

    /// What the program has written so far.
    public var outputSoFar: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
}
