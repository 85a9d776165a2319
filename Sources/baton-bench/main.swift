// Event store benchmarks, run with `make bench` (release build).
//
// Each figure is printed next to a baseline measured in the same run on the same cluster:
// appends against raw single-row INSERTs at the same concurrency, and decoded reads against
// the same rows fetched without decoding. Sizes can be changed with BENCH_APPENDS (per
// concurrency level) and BENCH_READ_EVENTS.
import BatonSchema
import EventStore
import Foundation
import Postgres

let environment = ProcessInfo.processInfo.environment
let appendsPerRun = Int(environment["BENCH_APPENDS"] ?? "") ?? 4_000
let readEvents = Int(environment["BENCH_READ_EVENTS"] ?? "") ?? 1_000_000

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func format(_ value: Double) -> String { String(format: "%10.0f", value) }

/// Runs `total` operations split over `writers` concurrent tasks; returns operations per second.
func measure(writers: Int, total: Int, _ operation: @escaping @Sendable (_ writer: Int, _ index: Int) async throws -> Void) async throws -> Double {
    let perWriter = total / writers
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<writers {
            group.addTask {
                for index in 0..<perWriter { try await operation(writer, index) }
            }
        }
        try await group.waitForAll()
    }
    return Double(perWriter * writers) / seconds(ContinuousClock.now - start)
}

let directory = URL(fileURLWithPath: "/tmp/baton-bench-\(getpid())")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
let cluster = EmbeddedPostgres(configuration: .init(dataDirectory: directory.appendingPathComponent("pg"), database: "bench"))
print("Starting a durable embedded cluster (fsync on) in \(directory.path) …")
try await cluster.start()
let client = PostgresClient(configuration: .init(connectionString: cluster.connectionString, maximumConnections: 17))
do {
    try await Migrator(client: client, migrations: BatonSchema.migrations).migrate()
    try await client.execute("CREATE TABLE raw_inserts (id bigserial PRIMARY KEY, stream text NOT NULL, data json NOT NULL, created_at timestamptz NOT NULL)")
    let store = EventStore(client: client)
    let payload = Array(#"{"body":"Printer on floor 3 is jammed again","channel":"phone"}"#.utf8)

    print("\nAppend throughput: one event per append with an expected version, vs raw single-row INSERTs")
    print("  writers    appends/s    INSERTs/s    ratio")
    for writers in [1, 16] {
        let raw = try await measure(writers: writers, total: appendsPerRun) { writer, _ in
            try await client.execute("""
                INSERT INTO raw_inserts (stream, data, created_at)
                VALUES (\("raw-\(writers)-\(writer)"), \(PostgresRawJSON(bytes: payload)), \(Date()))
                """)
        }
        let appends = try await measure(writers: writers, total: appendsPerRun) { writer, index in
            _ = try await store.append(
                to: "bench-\(writers)-\(writer)", expectedVersion: index == 0 ? .noStream : .exact(Int64(index)),
                events: [NewEvent(type: "TicketCommented", data: payload, occurredAt: Date(), actor: "agent:bench")])
        }
        print("  \(String(format: "%7d", writers))   \(format(appends))   \(format(raw))    \(String(format: "%.2f", appends / raw))×")
    }

    let present = try await store.headPosition()
    if present < Int64(readEvents) {
        print("\nLoading \(Int64(readEvents) - present) more events for the read benchmark (1,000 per append) …")
        let events = (0..<1_000).map { _ in NewEvent(type: "TicketCommented", data: payload, occurredAt: Date(), actor: "agent:bench") }
        var remaining = Int64(readEvents) - present
        var stream = 0
        while remaining > 0 {
            let batch = Array(events.prefix(Int(min(remaining, 1_000)))).map { event -> NewEvent in
                var copy = event
                copy.id = .timeOrdered()
                return copy
            }
            _ = try await store.append(to: "load-\(stream)", expectedVersion: .noStream, events: batch)
            remaining -= Int64(batch.count)
            stream += 1
        }
    }

    print("\nreadAll over \(readEvents) events, batches of 5,000")
    var start = ContinuousClock.now
    var rows = 0
    var after: Int64 = 0
    while true {
        let result = try await client.query("""
            SELECT position, event_id, stream, stream_version, type, schema_version, data, occurred_at,
                   recorded_at, actor, correlation_id, causation_id, command_id, content_hash, hash
            FROM events WHERE position > \(after) ORDER BY position LIMIT 5000
            """)
        guard let last = result.last else { break }
        after = try last.decode(Int64.self, at: 0)
        rows += result.count
    }
    let rawRate = Double(rows) / seconds(ContinuousClock.now - start)

    start = ContinuousClock.now
    var decoded = 0
    var checksum: Int64 = 0
    for try await batch in store.readAll(after: 0, batchSize: 5_000) {
        decoded += batch.count
        checksum &+= batch.last?.position ?? 0
    }
    let decodedRate = Double(decoded) / seconds(ContinuousClock.now - start)
    print("  decoded RecordedEvents/s \(format(decodedRate))   (\(decoded) events)")
    print("  rows fetched, undecoded  \(format(rawRate))   (\(rows) rows)")
    print("  ratio                    \(String(format: "%10.2f", decodedRate / rawRate))×   (goal: decoded ≥ 200,000/s)")
} catch {
    print("benchmark failed: \(error)")
}
await client.shutdown()
try await cluster.stop()
try? FileManager.default.removeItem(at: directory)
