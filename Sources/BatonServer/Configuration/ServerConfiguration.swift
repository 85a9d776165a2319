import BatonDomain
import BatonProjections
import Foundation

/// How batond reaches its database and serves HTTP.
public struct ServerConfiguration: Sendable {
    /// Where the data lives.
    public enum Database: Sendable, Equatable {
        /// An existing PostgreSQL server: a libpq conninfo string or `postgresql://` URI.
        case url(String)
        /// A private cluster batond starts (and stops) itself in this directory.
        case embedded(dataDirectory: URL)
    }

    public var database: Database
    /// The address to listen on. Default `127.0.0.1`.
    public var host: String
    /// The TCP port to listen on. Default 8080; 0 picks a free port.
    public var port: Int
    /// Apply pending migrations before serving. Default true.
    public var migrateOnStart: Bool
    /// The most database connections batond opens. Default 10.
    public var maximumConnections: Int
    /// How much of open tickets' streams batond keeps in memory, decoded, for the tickets
    /// projection and the lease path, in bytes of their stored JSON (see
    /// ``TicketHistories``); 0 keeps none. Default 128 MiB; the memory taken is from half that to about as much.
    public var ticketCacheBytes: Int
    /// Agreements to apply on start (new agreements and versions are recorded; the rest is
    /// left alone). Default none.
    public var agreements: AgreementSet?
    /// Issue example tokens at start and print them (for trying Baton out). Default false.
    public var exampleTokens: Bool

    public init(
        database: Database, host: String = "127.0.0.1", port: Int = 8080, migrateOnStart: Bool = true,
        maximumConnections: Int = 10, ticketCacheBytes: Int = TicketHistories.defaultBudget,
        agreements: AgreementSet? = nil, exampleTokens: Bool = false
    ) {
        self.ticketCacheBytes = ticketCacheBytes
        self.exampleTokens = exampleTokens
        self.agreements = agreements
        self.database = database
        self.host = host
        self.port = port
        self.migrateOnStart = migrateOnStart
        self.maximumConnections = maximumConnections
    }

    /// The default embedded data directory, relative to the working directory.
    public static let defaultDataDirectory = ".baton/postgres"

    /// `DATABASE_URL` when set and not empty, else the embedded cluster in `dataDirectory`.
    public static func database(
        url: String?, dataDirectory: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Database {
        if let url = url ?? environment["DATABASE_URL"], !url.isEmpty {
            return .url(url)
        }
        let directory = dataDirectory ?? environment["BATON_DATA_DIR"] ?? defaultDataDirectory
        return .embedded(dataDirectory: URL(fileURLWithPath: directory))
    }
}
