import Foundation

/// A value read from the database and kept for `lifetime`: what routing and the API read on
/// every request but that changes rarely (the agreements, the queue load).
///
/// One read at a time: callers that find the value stale while a read runs share it instead
/// of each reading again. Meanwhile they get the stale value at once; only the very first
/// read, and the first after ``invalidate()``, is waited for.
actor Refreshing<Value: Sendable> {
    private let lifetime: Duration
    private let read: @Sendable (Date) async throws -> Value
    private var cached: (value: Value, at: ContinuousClock.Instant)?
    /// The read under way, and the invalidation it started after.
    private var reading: (task: Task<Value, any Error>, generation: Int)?
    private var generation = 0

    /// - Parameter read: reads the value as of the instant it is given.
    init(lifetime: Duration, read: @escaping @Sendable (Date) async throws -> Value) {
        self.lifetime = lifetime
        self.read = read
    }

    /// The value at most `lifetime` old (or stale while it is read again).
    func current(at now: Date) async throws -> Value {
        if let cached, ContinuousClock.now - cached.at < lifetime { return cached.value }
        let pending = reading?.task ?? startReading(at: now)
        if let cached { return cached.value }
        return try await pending.value
    }

    /// Forgets the value: the next caller waits for a fresh read.
    func invalidate() {
        cached = nil
        reading = nil
        generation += 1
    }

    private func startReading(at now: Date) -> Task<Value, any Error> {
        let task = Task { [read] in try await read(now) }
        let started = generation
        reading = (task, started)
        Task {
            let result = await task.result
            self.finished(result, generation: started)
        }
        return task
    }

    private func finished(_ result: Result<Value, any Error>, generation started: Int) {
        guard started == generation else { return }  // invalidated meanwhile: a newer read follows
        reading = nil
        if case .success(let value) = result { cached = (value, .now) }
    }
}
