import Crypto
import Foundation
import Logging
import Postgres
import ServiceLifecycle
import Synchronization

/// The principals of recently used tokens, so that a request does not ask the database whose
/// token it carries.
///
/// A remembered principal is trusted only while this cache's listener on `baton_tokens` is
/// connected. Every change to `api_tokens` (a revocation by any batond, by `batond tokens
/// revoke` or by hand) NOTIFYs that channel when it commits, and the cache forgets everything
/// it holds; so does a reconnect of the listener, which may have missed notifications. A
/// revocation therefore takes effect in this process as soon as its notification arrives
/// (at once when revoked through this process, see ``forgetAll()``). A connection that dies
/// without the listener noticing (a half-open socket) delivers nothing, so a principal is
/// never kept longer than ``maximumAge`` in any case. Unknown tokens are never remembered.
///
/// Run it as a service: until it listens, every request asks the database.
public final class TokenCache: Service, Sendable {
    /// The channel the `api_tokens` trigger announces changes on.
    public static let channel = "baton_tokens"

    private struct Entry {
        var principal: Principal
        var epoch: UInt64
        var fetchedAt: ContinuousClock.Instant
    }

    private struct State {
        /// Moves on at every notification and reconnect; older entries are void.
        var epoch: UInt64 = 0
        var listener: PostgresListener?
        /// The listener's backend once it LISTENs and everything older was forgotten: until
        /// the listener reports so, a new connection is not trusted.
        var listeningPID: Int32?
        var entries: [[UInt8]: Entry] = [:]

        /// Whether remembered principals may be used: the listener listens on the connection
        /// it reported listening on.
        var isTrusted: Bool {
            guard let pid = listener?.backendPID else { return false }
            return pid == listeningPID
        }

        /// Voids every remembered principal, and any being fetched meanwhile.
        mutating func forgetAll() {
            epoch &+= 1
            entries.removeAll()
        }
    }

    public let tokens: TokenStore
    /// The longest a principal is remembered.
    public let maximumAge: Duration
    /// The most principals remembered; when full, all are forgotten.
    public let capacity: Int
    private let logger: Logger
    private let state = Mutex(State())

    public init(tokens: TokenStore, maximumAge: Duration = .seconds(60), capacity: Int = 10_000, logger: Logger) {
        self.tokens = tokens
        self.maximumAge = maximumAge
        self.capacity = capacity
        self.logger = logger
    }

    /// The principal a bearer token speaks for; nil when the token is unknown or revoked.
    public func authenticate(_ token: String) async throws -> Principal? {
        guard let hash = TokenStore.hashIfWellFormed(token) else { return nil }
        let now = ContinuousClock.now
        let (remembered, epoch) = state.withLock { state -> (Principal?, UInt64?) in
            guard state.isTrusted else { return (nil, nil) }
            guard let entry = state.entries[hash], entry.epoch == state.epoch, now - entry.fetchedAt < maximumAge else {
                return (nil, state.epoch)
            }
            return (entry.principal, state.epoch)
        }
        if let remembered { return remembered }
        let principal = try await tokens.principal(tokenHash: hash)
        // Remembered only if nothing changed while the database was asked: a revocation that
        // committed meanwhile has moved the epoch on (or will, and then forgets this entry).
        if let principal, let epoch {
            state.withLock { state in
                guard state.epoch == epoch else { return }
                if state.entries.count >= capacity { state.entries.removeAll() }
                state.entries[hash] = Entry(principal: principal, epoch: epoch, fetchedAt: now)
            }
        }
        return principal
    }

    /// The backend of the listener's connection while principals may be remembered; nil
    /// before ``run()``, while reconnecting, and until a new connection listens.
    public var listenerBackendPID: Int32? {
        state.withLock { $0.isTrusted ? $0.listeningPID : nil }
    }

    /// Forgets every remembered principal (after a change to the tokens in this process, so
    /// it takes effect before the notification arrives).
    public func forgetAll() {
        state.withLock { $0.forgetAll() }
    }

    /// Listens until cancelled or shut down gracefully; remembers principals meanwhile.
    public func run() async throws {
        let configuration = tokens.client.configuration
        let listener = PostgresListener(
            configuration: .init(
                connectionString: configuration.connectionString, database: configuration.database,
                channels: [Self.channel], logger: logger)
        ) { [self] event in
            state.withLock { state in
                state.forgetAll()
                if event == .listening { state.listeningPID = state.listener?.backendPID }
            }
        }
        state.withLock { $0.listener = listener }
        listener.start()
        defer {
            listener.stop()
            state.withLock { state in
                state.listener = nil
                state.listeningPID = nil
                state.forgetAll()
            }
        }
        // Sleeps until shut down; the listener works on its own thread.
        try? await gracefulShutdown()
    }
}
