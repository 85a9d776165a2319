import CLibPQ
import Foundation
import Logging
import Synchronization

/// What a notification listener reports.
public enum PostgresListenerEvent: Sendable, Equatable {
    /// The listener is connected and LISTENing on every channel. Reported after the first
    /// connect and after every reconnect: notifications sent while it was disconnected are
    /// lost, so a consumer that must not miss changes re-reads its source here.
    case listening
    /// A notification arrived.
    case notification(PostgresNotification)
}

/// A NOTIFY received on a LISTENed channel.
public struct PostgresNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    /// The process id of the backend that sent it.
    public var senderPID: Int32
}

/// LISTEN on some channels, as an `AsyncSequence`.
///
/// Each iteration opens its own dedicated connection, on a dedicated thread (libpq's wait is
/// blocking), and keeps it: when the connection breaks it reconnects with backoff, LISTENs
/// again and yields ``PostgresListenerEvent/listening``. Iteration ends when the consuming
/// task is cancelled or the iterator is dropped.
public struct PostgresNotifications: AsyncSequence, Sendable {
    public typealias Element = PostgresListenerEvent

    let listener: PostgresListener.Configuration

    /// - Parameters:
    ///   - connectionString: as for ``PostgresClient/Configuration``.
    ///   - database: overrides the database in `connectionString`.
    ///   - channels: channel names (identifiers; quoted for you).
    public init(
        connectionString: String, database: String? = nil, channels: [String],
        logger: Logger = Logger(label: "baton.postgres.listener")
    ) {
        listener = .init(connectionString: connectionString, database: database, channels: channels, logger: logger)
    }

    public func makeAsyncIterator() -> AsyncStream<PostgresListenerEvent>.Iterator {
        let (stream, continuation) = AsyncStream.makeStream(
            of: PostgresListenerEvent.self, bufferingPolicy: .unbounded)
        let thread = PostgresListener(configuration: listener) { continuation.yield($0) }
        continuation.onTermination = { _ in thread.stop() }
        thread.start()
        return stream.makeAsyncIterator()
    }
}

/// The listening loop on its own thread; reports events through a callback.
///
/// Other modules use it directly when they only need to be woken (the callback runs on the
/// listener's thread and must return quickly).
public final class PostgresListener: Sendable {
    public struct Configuration: Sendable {
        public var connectionString: String
        public var database: String?
        public var channels: [String]
        public var logger: Logger
        /// How often the loop wakes to check whether it should stop. Default 200 ms.
        public var wakeInterval: Duration = .milliseconds(200)

        public init(connectionString: String, database: String? = nil, channels: [String], logger: Logger) {
            self.connectionString = connectionString
            self.database = database
            self.channels = channels
            self.logger = logger
        }
    }

    private let configuration: Configuration
    private let onEvent: @Sendable (PostgresListenerEvent) -> Void
    private let stopped = Mutex(false)
    private let backendPIDState = Mutex<Int32?>(nil)

    public init(configuration: Configuration, onEvent: @escaping @Sendable (PostgresListenerEvent) -> Void) {
        self.configuration = configuration
        self.onEvent = onEvent
    }

    /// Starts the thread. Call once.
    public func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "baton-postgres-listener"
        thread.start()
    }

    /// Asks the thread to finish; it closes its connection within one wake interval.
    public func stop() {
        stopped.withLock { $0 = true }
    }

    /// The backend serving the listener's current connection, if connected.
    public var backendPID: Int32? { backendPIDState.withLock { $0 } }

    private var isStopped: Bool { stopped.withLock { $0 } }

    private func run() {
        var backoff = 0.05
        while !isStopped {
            guard let connection = connect() else {
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(backoff * 2, 2)
                continue
            }
            backoff = 0.05
            backendPIDState.withLock { $0 = PQbackendPID(connection) }
            onEvent(.listening)
            listen(on: connection)
            backendPIDState.withLock { $0 = nil }
            PQfinish(connection)
        }
    }

    /// Connects and LISTENs on every channel; nil (and logged) on failure.
    private func connect() -> OpaquePointer? {
        let connection: OpaquePointer
        do {
            connection = try PostgresConnection.connectBlocking(
                connectionString: configuration.connectionString, database: configuration.database,
                applicationName: "baton-listener"
            ).pointer
        } catch {
            configuration.logger.warning("listener could not connect", metadata: ["error": "\(error)"])
            return nil
        }
        for channel in configuration.channels {
            guard let quoted = PQescapeIdentifier(connection, channel, channel.utf8.count) else {
                PQfinish(connection)
                return nil
            }
            let sql = "LISTEN " + String(cString: quoted)
            PQfreemem(quoted)
            let result = PQexec(connection, sql)
            let ok = PQresultStatus(result) == PGRES_COMMAND_OK
            PQclear(result)
            guard ok else {
                configuration.logger.warning("LISTEN failed", metadata: ["channel": "\(channel)"])
                PQfinish(connection)
                return nil
            }
        }
        return connection
    }

    /// Waits for notifications until the connection breaks or the listener is stopped.
    private func listen(on connection: OpaquePointer) {
        let socket = PQsocket(connection)
        let waitMilliseconds = Int32(configuration.wakeInterval.components.seconds * 1000
            + configuration.wakeInterval.components.attoseconds / 1_000_000_000_000_000)
        // Notifications can arrive with the LISTEN replies, before the first poll.
        deliverQueuedNotifications(connection)
        while !isStopped {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, waitMilliseconds)
            if ready < 0 && errno != EINTR { return }
            if ready > 0 {
                guard PQconsumeInput(connection) != 0 else {
                    configuration.logger.info("listener connection lost; reconnecting")
                    return
                }
                deliverQueuedNotifications(connection)
            }
            if PQstatus(connection) != CONNECTION_OK { return }
        }
    }

    private func deliverQueuedNotifications(_ connection: OpaquePointer) {
        while let notify = PQnotifies(connection) {
            let event = PostgresNotification(
                channel: String(cString: notify.pointee.relname),
                payload: String(cString: notify.pointee.extra),
                senderPID: notify.pointee.be_pid)
            PQfreemem(notify)
            onEvent(.notification(event))
        }
    }
}
