import DequeModule
import Logging
import NIOPosix

/// The pool's bookkeeping: idle connections, how many are open, and who is waiting.
actor ConnectionPool {
    private enum Grant {
        case connection(PostgresConnection)
        /// A slot was freed by a discarded connection: the waiter opens its own.
        case slot
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Grant, any Error>
        let timeout: Task<Void, Never>
    }

    private let configuration: PostgresClient.Configuration
    private let threadPool: NIOThreadPool
    private let logger: Logger
    private var idle: [PostgresConnection] = []
    private var openCount = 0
    private var waiters: Deque<Waiter> = []
    private var nextWaiterID = 0
    private var isClosed = false

    init(configuration: PostgresClient.Configuration, threadPool: NIOThreadPool, logger: Logger) {
        self.configuration = configuration
        self.threadPool = threadPool
        self.logger = logger
    }

    var statistics: (open: Int, idle: Int) { (openCount, idle.count) }

    func lease() async throws -> PostgresConnection {
        while true {
            guard !isClosed else { throw Self.closedError }
            if let connection = idle.popLast() {
                if connection.checkUsable() { return connection }
                logger.debug("discarding a broken idle connection")
                await discard(connection)
                continue
            }
            if openCount < configuration.maximumConnections {
                return try await openConnection()
            }
            switch try await waitForGrant() {
            case .connection(let connection):
                if connection.checkUsable() { return connection }
                await discard(connection)
            case .slot:
                // The slot was handed over still counted, so nobody else can take it meanwhile.
                return try await openConnection(slotAlreadyCounted: true)
            }
        }
    }

    func release(_ connection: PostgresConnection) async {
        guard !isClosed, connection.isIdleOutsideTransaction, !connection.isClosed else {
            await discard(connection)
            return
        }
        if let waiter = waiters.popFirst() {
            waiter.timeout.cancel()
            waiter.continuation.resume(returning: .connection(connection))
        } else {
            idle.append(connection)
        }
    }

    func close() async {
        isClosed = true
        while let waiter = waiters.popFirst() {
            waiter.timeout.cancel()
            waiter.continuation.resume(throwing: Self.closedError)
        }
        let connections = idle
        idle.removeAll()
        openCount -= connections.count
        for connection in connections { await connection.close() }
    }

    // MARK: -

    private static let closedError = PostgresError(code: .clientClosed, message: "the PostgreSQL client has been shut down")

    /// Opens a connection in a slot this caller claims (or was handed); gives the slot back
    /// on failure.
    private func openConnection(slotAlreadyCounted: Bool = false) async throws -> PostgresConnection {
        if !slotAlreadyCounted { openCount += 1 }
        do {
            return try await PostgresConnection.connect(
                connectionString: configuration.connectionString, database: configuration.database,
                applicationName: configuration.applicationName, threadPool: threadPool)
        } catch {
            slotFreed()
            throw error
        }
    }

    private func discard(_ connection: PostgresConnection) async {
        await connection.close()
        slotFreed()
    }

    /// A connection's slot is free: hand it, still counted, to the first waiter, or give it up.
    private func slotFreed() {
        if !isClosed, let waiter = waiters.popFirst() {
            waiter.timeout.cancel()
            waiter.continuation.resume(returning: .slot)
        } else {
            openCount -= 1
        }
    }

    private func waitForGrant() async throws -> Grant {
        let id = nextWaiterID
        nextWaiterID += 1
        let timeout = configuration.leaseTimeout
        let maximum = configuration.maximumConnections
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let timer = Task { [weak self] in
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    await self?.failWaiter(
                        id,
                        with: PostgresError(
                            code: .poolTimeout,
                            message: "all \(maximum) connections stayed busy for \(timeout); raise the pool size or find the slow work holding them"))
                }
                waiters.append(Waiter(id: id, continuation: continuation, timeout: timer))
            }
        } onCancel: {
            Task { await self.failWaiter(id, with: CancellationError()) }
        }
    }

    private func failWaiter(_ id: Int, with error: any Error) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = waiters.remove(at: index)
        waiter.timeout.cancel()
        waiter.continuation.resume(throwing: error)
    }
}
