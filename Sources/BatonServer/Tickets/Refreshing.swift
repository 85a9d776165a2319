import Foundation
import Synchronization

/// A value read from the database and kept for `lifetime`: what routing and the API read on
/// every request but that changes rarely (the agreements, the queue load).
///
/// One read at a time: callers that find the value stale while a read runs share it instead
/// of each reading again. Meanwhile they get the stale value at once; only the very first
/// read, and the first after ``invalidate()``, is waited for.
///
/// A lock, not an actor: every request asks, and a fresh value is handed out without a hop
/// to another executor (an actor made busy requests queue behind each other for it).
final class Refreshing<Value: Sendable>: Sendable {
    private struct State {
        var cached: (value: Value, at: ContinuousClock.Instant)?
        /// The read under way, and the invalidation it started after.
        var reading: (task: Task<Value, any Error>, generation: Int)?
        var generation = 0
    }

    private let lifetime: Duration
    private let read: @Sendable (Date) async throws -> Value
    private let state = Mutex(State())

    /// - Parameter read: reads the value as of the instant it is given.
    init(lifetime: Duration, read: @escaping @Sendable (Date) async throws -> Value) {
        self.lifetime = lifetime
        self.read = read
    }

    /// The value at most `lifetime` old (or stale while it is read again).
    func current(at now: Date) async throws -> Value {
        let (value, pending) = state.withLock { state -> (Value?, Task<Value, any Error>?) in
            if let cached = state.cached, ContinuousClock.now - cached.at < lifetime { return (cached.value, nil) }
            let pending = state.reading?.task ?? startReading(&state, at: now)
            return (state.cached?.value, pending)
        }
        if let value { return value }
        return try await pending!.value
    }

    /// Forgets the value: the next caller waits for a fresh read.
    func invalidate() {
        state.withLock { state in
            state.cached = nil
            state.reading = nil
            state.generation += 1
        }
    }

    private func startReading(_ state: inout State, at now: Date) -> Task<Value, any Error> {
        let task = Task { [read] in try await read(now) }
        let started = state.generation
        state.reading = (task, started)
        Task {
            let result = await task.result
            self.finished(result, generation: started)
        }
        return task
    }

    private func finished(_ result: Result<Value, any Error>, generation started: Int) {
        state.withLock { state in
            guard started == state.generation else { return }  // invalidated meanwhile: a newer read follows
            state.reading = nil
            if case .success(let value) = result { state.cached = (value, .now) }
        }
    }
}
