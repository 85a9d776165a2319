import Foundation
import Metrics
import Postgres
import Synchronization

/// Groups appends that arrive together into one transaction: group commit.
///
/// Every append must take the log head's lock, held to commit, so appends in separate
/// transactions commit strictly one after another, each paying a WAL flush. Here, while one
/// batch is being written, new appends queue; the next batch takes all of them at once. A
/// lone writer sees no delay: its append is written at once, on its own task.
///
/// Each request is answered on its own: a version conflict fails only that request. If a
/// batch fails because of one request's data (say, a duplicate event id), its requests are
/// retried one by one, so one bad append does not fail the others.
final class AppendBatcher: Sendable {
    /// The most appends one transaction takes.
    static let maximumBatch = 64

    private struct State {
        var queue: [PendingAppend] = []
        var draining = false
    }

    private let client: PostgresClient
    private let state = Mutex(State())
    private let appendsCommitted = Counter(label: "baton_event_store_appends")
    private let appendsConflicted = Counter(label: "baton_event_store_append_conflicts")
    private let batchSize = Recorder(label: "baton_event_store_append_batch_size")

    init(client: PostgresClient) {
        self.client = client
    }

    func submit(_ request: EventStore.Append) async throws -> AppendResult {
        let pending = PendingAppend(request: request)
        let alone = state.withLock { state -> Bool in
            guard !state.draining else {
                state.queue.append(pending)
                return false
            }
            state.draining = true
            return true
        }
        guard alone else { return try await pending.answer.result() }
        // Nobody else is writing: write this append at once, on the caller's task, then hand
        // whatever queued meanwhile to a drain of its own, so this caller's cancellation can
        // never fail the appends of others. The drain ends when the queue is empty.
        let result = await write([request])[0]
        let more = state.withLock { state -> Bool in
            if state.queue.isEmpty { state.draining = false }
            return state.draining
        }
        if more { Task { await self.drain() } }
        return try result.get()
    }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [PendingAppend] in
                guard !state.queue.isEmpty else {
                    state.draining = false
                    return []
                }
                // Two retries of one command never share a batch: the second must see the
                // first one's events, committed.
                var batch: [PendingAppend] = []
                var commands = Set<UUID>()
                var rest: [PendingAppend] = []
                for pending in state.queue {
                    if batch.count < Self.maximumBatch,
                       pending.request.commandId.map({ commands.insert($0).inserted }) ?? true {
                        batch.append(pending)
                    } else {
                        rest.append(pending)
                    }
                }
                state.queue = rest
                return batch
            }
            guard !batch.isEmpty else { return }
            let results = await write(batch.map(\.request))
            for (pending, result) in zip(batch, results) { pending.answer.complete(result) }
        }
    }

    private func write(_ requests: [EventStore.Append]) async -> [Result<AppendResult, any Error>] {
        batchSize.record(requests.count)
        let results = await attempt(requests)
        for result in results {
            switch result {
            case .success: appendsCommitted.increment()
            case .failure(let error) where error is WrongExpectedVersion: appendsConflicted.increment()
            case .failure: break
            }
        }
        return results
    }

    private func attempt(_ requests: [EventStore.Append]) async -> [Result<AppendResult, any Error>] {
        do {
            return try await client.withConnection { try await EventStore.execute(requests, on: $0) }
        } catch {
            // Only an error one request can cause (bad data, a duplicate event id) is worth
            // trying the requests one by one. After a lost connection the batch may even have
            // committed, and after a pool timeout or shutdown the retries would fail slowly:
            // every request gets the error.
            let isolatable = (error as? PostgresError).map { !$0.isConnectionFailure && $0.code == .server } ?? false
            guard requests.count > 1, isolatable else { return requests.map { _ in .failure(error) } }
            var results: [Result<AppendResult, any Error>] = []
            for request in requests {
                do {
                    results.append(try await client.withConnection { try await EventStore.execute([request], on: $0)[0] })
                } catch {
                    results.append(.failure(error))
                }
            }
            return results
        }
    }
}

/// A submitted append waiting for its answer.
struct PendingAppend: Sendable {
    let request: EventStore.Append
    let answer = ResultSlot<AppendResult>()
}
