import Foundation
import Synchronization
import Testing
@testable import BatonServer

@Suite("A value kept for a while and read again in the background")
struct RefreshingTests {
    /// Counts reads; each read returns its own number, after waiting for `release` when held.
    final class Source: Sendable {
        let reads = Mutex(0)
        let done = Mutex(0)
        let held = Mutex<[CheckedContinuation<Void, Never>]?>(nil)

        func read() async -> Int {
            let number = reads.withLock { $0 += 1; return $0 }
            await withCheckedContinuation { continuation in
                let wait = held.withLock { waiting -> Bool in
                    guard waiting != nil else { return false }
                    waiting!.append(continuation)
                    return true
                }
                if !wait { continuation.resume() }
            }
            done.withLock { $0 += 1 }
            return number
        }
        func hold() { held.withLock { $0 = [] } }
        func release() { for c in held.withLock({ w -> [CheckedContinuation<Void, Never>] in defer { w = nil }; return w ?? [] }) { c.resume() } }
        var count: Int { reads.withLock { $0 } }
        var finished: Int { done.withLock { $0 } }
    }

    @Test("fifty callers racing for the first value share one read", .timeLimit(.minutes(1)))
    func oneReadForEveryone() async throws {
        let source = Source()
        let value = Refreshing(lifetime: .seconds(60)) { _ in await source.read() }
        source.hold()
        let answers = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<50 { group.addTask { try await value.current(at: Date()) } }
            while source.count == 0 { await Task.yield() }
            try await Task.sleep(for: .milliseconds(20))
            source.release()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers == Array(repeating: 1, count: 50))
        #expect(source.count == 1)
        #expect(try await value.current(at: Date()) == 1)
        #expect(source.count == 1)
    }

    @Test("a stale value is handed out at once while it is read again; after invalidate() callers wait for a fresh one", .timeLimit(.minutes(1)))
    func staleWhileReading() async throws {
        let source = Source()
        let value = Refreshing(lifetime: .zero) { _ in await source.read() }
        #expect(try await value.current(at: Date()) == 1)
        source.hold()
        // Stale at once while the second read is held; a caller meanwhile starts no third.
        #expect(try await value.current(at: Date()) == 1)
        while source.count < 2 { await Task.yield() }
        #expect(try await value.current(at: Date()) == 1)
        try await Task.sleep(for: .milliseconds(20))
        #expect(source.count == 2)
        source.release()
        while try await value.current(at: Date()) == 1 { await Task.yield() }
        // The call that saw the new value found it stale (a lifetime of zero) and started a
        // third read in the background: let it finish, or the hold below could catch it
        // instead of the read after invalidate().
        while source.count < 3 || source.finished < source.count { await Task.yield() }

        value.invalidate()
        source.hold()
        let fresh = Task { try await value.current(at: Date()) }
        while source.held.withLock({ $0?.isEmpty ?? true }) { await Task.yield() }
        let readsBefore = source.count
        source.release()
        #expect(try await fresh.value == readsBefore)
    }
}
