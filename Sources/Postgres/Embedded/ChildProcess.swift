import Foundation

/// A program started with posix_spawn, its output (stdout and stderr) captured to a file,
/// waited for with waitpid on a thread of its own.
///
/// Foundation's `Process` is not used: on Linux its termination monitoring can miss the exit
/// of a program (such as `pg_ctl start`) whose own child outlives it, leaving the caller
/// waiting forever. `package` so the test support can start batond the same way.
///
/// `@unchecked Sendable`: `pid` and `outputPath` never change after `init`.
package final class ChildProcess: @unchecked Sendable {
    package let pid: pid_t
    private let executable: String
    private let outputPath: String

    /// Starts `executable` with `arguments`, in the current environment changed by
    /// `environment` (a nil value removes the variable).
    package init(_ executable: String, _ arguments: [String], environment: [String: String?] = [:]) throws {
        self.executable = executable
        outputPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("baton-child-\(UUID().uuidString).log").path
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
        let spawned = (argv + [nil]).withUnsafeBufferPointer { a in
            (envp + [nil]).withUnsafeBufferPointer { e in
                posix_spawn(&pid, executable, &actions, nil, UnsafeMutablePointer(mutating: a.baseAddress!), UnsafeMutablePointer(mutating: e.baseAddress!))
            }
        }
        guard spawned == 0 else {
            throw PostgresError(code: .embeddedCluster, message: "could not run \(executable): \(String(cString: strerror(spawned)))")
        }
        self.pid = pid
    }

    /// What the program has written so far.
    package var outputSoFar: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` to the program.
    package func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the program to end, on a thread of its own so no Swift concurrency thread
    /// blocks; returns its exit status (128+N when killed by signal N) and output.
    package func wait() async -> (status: Int32, output: String) {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.waitBlocking()) }.start()
        }
    }

    /// Waits for the program to end, blocking the calling thread.
    package func waitBlocking() -> (status: Int32, output: String) {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
        let status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        unlink(outputPath)
        return (status, output)
    }
}
