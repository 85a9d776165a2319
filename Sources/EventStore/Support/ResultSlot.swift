import Synchronization

/// Where one waiting request's result is put: by whoever serves the request, once, before
/// or after the requester starts waiting. For batching many callers' requests into one
/// piece of work (the append batcher's group commit, the lease desk's grants).
public final class ResultSlot<Value: Sendable>: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Value, any Error>?)
        case done(Result<Value, any Error>)
    }

    private let state = Mutex(State.waiting(nil))

    public init() {}

    /// Puts the result, waking the requester if it waits; only the first result counts.
    public func complete(_ result: Result<Value, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            guard case .waiting(let continuation) = state else { return nil }
            state = .done(result)
            return continuation
        }
        continuation?.resume(with: result)
    }

    /// The result, once it is put.
    public func result() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<Value, any Error>? in
                if case .done(let result) = state { return result }
                state = .waiting(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
