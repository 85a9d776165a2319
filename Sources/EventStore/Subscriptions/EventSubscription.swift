import Foundation
import Logging
import Postgres

extension EventStore {
    /// Every event after `position`, in order, now and as they are appended.
    ///
    /// The subscription LISTENs first, then catches up from `position`, then waits for
    /// notifications; it also polls every `pollInterval`, so a lost notification (or a
    /// listener that cannot connect) delays an event by at most that long and never stalls
    /// it. It tracks the last position it delivered, so reconnects neither lose nor repeat
    /// events. Iteration ends when the consuming task is cancelled.
    ///
    /// - Parameter listen: false to rely on polling alone, e.g. against a streaming replica,
    ///   where LISTEN is not available.
    public func subscribe(
        after position: Int64 = 0, batchSize: Int = 500, pollInterval: Duration = .seconds(1), listen: Bool = true
    ) -> EventSubscription {
        EventSubscription(store: self, after: position, batchSize: batchSize, pollInterval: pollInterval, listen: listen)
    }
}

extension EventStore {
    /// LISTENs on `channels` on a dedicated connection and moves `signal` on at each
    /// notification, and at each (re)connect, which may have missed some. Returns once
    /// listening, or after 5 seconds if the database cannot be reached (callers poll too).
    /// Stop the returned listener when done.
    public func listen(channels: [String], signalling signal: ChangeSignal) async -> PostgresListener {
        let configuration = client.configuration
        let listening = ChangeSignal()
        let listener = PostgresListener(
            configuration: .init(
                connectionString: configuration.connectionString, database: configuration.database,
                channels: channels, logger: logger)
        ) { event in
            signal.signal()
            if event == .listening { listening.signal() }
        }
        let seen = listening.generation
        listener.start()
        await listening.wait(since: seen, timeout: .seconds(5))
        return listener
    }
}

/// See ``EventStore/subscribe(after:batchSize:pollInterval:)``.
public struct EventSubscription: AsyncSequence, Sendable {
    public typealias Element = RecordedEvent

    let store: EventStore
    let after: Int64
    let batchSize: Int
    let pollInterval: Duration
    let listen: Bool

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(store: store, position: after, batchSize: batchSize, pollInterval: pollInterval, listen: listen)
    }

    public final class AsyncIterator: AsyncIteratorProtocol {
        private let store: EventStore
        private var position: Int64
        private let batchSize: Int
        private let pollInterval: Duration
        private var buffer: [RecordedEvent] = []
        private var bufferIndex = 0
        private let signal = ChangeSignal()
        private var listener: PostgresListener?
        private var shouldListen: Bool

        init(store: EventStore, position: Int64, batchSize: Int, pollInterval: Duration, listen: Bool) {
            self.shouldListen = listen
            self.store = store
            self.position = position
            self.batchSize = batchSize
            self.pollInterval = pollInterval
        }

        deinit { listener?.stop() }

        /// The position of the last event handed out.
        public var lastPosition: Int64 { position }

        public func next() async throws -> RecordedEvent? {
            if shouldListen {
                shouldListen = false
                await startListening()
            }
            while true {
                if bufferIndex < buffer.count {
                    let event = buffer[bufferIndex]
                    bufferIndex += 1
                    position = event.position
                    return event
                }
                try Task.checkCancellation()
                // Take the generation before reading: a notification that lands after the
                // read moves it, and the wait below returns at once.
                let seen = signal.generation
                buffer = try await store.readAll(after: position, limit: batchSize)
                bufferIndex = 0
                if buffer.isEmpty {
                    await signal.wait(since: seen, timeout: pollInterval)
                }
            }
        }

        /// LISTEN before the first read, so nothing appended during catch-up goes unnoticed.
        private func startListening() async {
            listener = await store.listen(channels: [EventStore.notificationChannel], signalling: signal)
        }
    }
}
