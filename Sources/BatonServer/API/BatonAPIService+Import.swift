import BatonAPI
import BatonDomain
import Foundation
import Hummingbird
import OpenAPIRuntime

/// `POST /v1/tickets/import`: NDJSON in, NDJSON out, line by line.
extension BatonAPIService {
    /// The longest line taken; a longer one is rejected and skipped.
    static let maximumImportLine = 64 << 10
    /// Lines opened at once: enough to share commits, few enough to keep memory flat.
    static let importConcurrency = 16

    func importTickets(_ input: Operations.ImportTickets.Input) async throws -> Operations.ImportTickets.Output {
        let principal: Principal
        do {
            principal = try caller()
            guard [.ingest, .agent, .admin].contains(principal.role), principal.actor != nil else {
                throw APIProblem.forbidden("tickets are opened by ingest sources, agents and admins")
            }
        } catch {
            let problem = APIProblem.from(error, logger: logger)
            return .default(statusCode: problem.status, problem.response)
        }
        guard case .applicationXNdjson(let body) = input.body else { preconditionFailure("the API document allows only NDJSON") }
        // The answer is pulled: each piece of it reads and opens the next lines of the
        // request, so a client that stops reading stops the import, and memory stays flat.
        let results = ImportResults(body: body) { line, text in await self.importLine(line, text, principal: principal) }
        return .ok(.init(body: .applicationXNdjson(HTTPBody(results, length: .unknown, iterationBehavior: .single))))
    }

    /// Opens the ticket of one line and says what happened, as one JSON line.
    func importLine(_ line: Int, _ text: [UInt8]?, principal: Principal) async -> String {
        func answer(_ fields: [String: Any]) -> String {
            var object = fields
            object["line"] = line
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        guard let text else { return answer(["status": "rejected", "reason": "line: longer than \(Self.maximumImportLine) bytes"]) }
        guard let actor = principal.actor else { return answer(["status": "rejected", "reason": "not allowed"]) }
        do {
            let request: Components.Schemas.OpenTicketRequest
            do {
                request = try JSONDecoder().decode(Components.Schemas.OpenTicketRequest.self, from: Data(text))
            } catch let error as DecodingError {
                return answer(["status": "rejected", "reason": RequestDecodingMiddleware<BasicRequestContext>.describe(error)])
            } catch {
                return answer(["status": "rejected", "reason": "not a JSON object"])
            }
            let details = try Self.details(request, for: principal)
            let opened = try await opener.open(details, priority: request.priority.flatMap { Priority(rawValue: $0.rawValue) }, by: actor, at: now())
            if opened.isDuplicate {
                return answer(["status": "duplicate", "number": opened.ticket.number])
            }
            return answer(["status": "accepted", "number": opened.ticket.number, "queue": opened.routing?.assignment.queue ?? ""])
        } catch {
            let problem = APIProblem.from(error, logger: logger)
            return answer(["status": "rejected", "reason": problem.detail ?? problem.title])
        }
    }
}

/// The result lines of an import, made as they are read: each step reads request lines until
/// it has ``BatonAPIService/importConcurrency`` of them (or the body ends), opens them
/// concurrently, and returns their result lines in input order.
struct ImportResults: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    let body: HTTPBody
    let open: @Sendable (Int, [UInt8]?) async -> String

    func makeAsyncIterator() -> Iterator { Iterator(lines: body.makeAsyncIterator(), open: open) }

    struct Iterator: AsyncIteratorProtocol {
        var lines: HTTPBody.AsyncIterator
        let open: @Sendable (Int, [UInt8]?) async -> String
        var buffer: [UInt8] = []
        var ready: [(line: Int, text: [UInt8]?)] = []
        var lineNumber = 0
        var skipping = false  // inside a line that is too long
        var ended = false

        init(lines: HTTPBody.AsyncIterator, open: @escaping @Sendable (Int, [UInt8]?) async -> String) {
            self.lines = lines
            self.open = open
        }

        mutating func next() async throws -> ArraySlice<UInt8>? {
            while ready.count < BatonAPIService.importConcurrency && !ended {
                guard let chunk = try await lines.next() else {
                    ended = true
                    if skipping { take([], tooLong: true) } else if !buffer.isEmpty { take(buffer[...], tooLong: false) }
                    break
                }
                var start = chunk.startIndex
                while let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    if skipping {
                        skipping = false
                        take([], tooLong: true)
                    } else {
                        buffer.append(contentsOf: chunk[start..<newline])
                        take(buffer[...], tooLong: buffer.count > BatonAPIService.maximumImportLine)
                    }
                    buffer.removeAll(keepingCapacity: true)
                    start = chunk.index(after: newline)
                }
                if !skipping {
                    buffer.append(contentsOf: chunk[start...])
                    if buffer.count > BatonAPIService.maximumImportLine {
                        skipping = true
                        buffer.removeAll()
                    }
                }
            }
            guard !ready.isEmpty else { return nil }
            let batch = Array(ready.prefix(BatonAPIService.importConcurrency))
            ready.removeFirst(batch.count)
            // Lines for the same external ticket go in later waves, so the first one opens it
            // and the later ones are its duplicates, as in a one-by-one import.
            var waves: [[Int]] = []
            var seen: [String: Int] = [:]
            for (index, item) in batch.enumerated() {
                let key = item.text.flatMap(Self.externalKey)
                let wave = key.map { k in seen[k, default: -1] + 1 } ?? 0
                if let key { seen[key] = wave }
                while waves.count <= wave { waves.append([]) }
                waves[wave].append(index)
            }
            let open = self.open
            var answers = [String](repeating: "", count: batch.count)
            for wave in waves {
                await withTaskGroup(of: (Int, String).self) { group in
                    for index in wave {
                        let item = batch[index]
                        group.addTask { (index, await open(item.line, item.text)) }
                    }
                    for await (index, answer) in group { answers[index] = answer }
                }
            }
            return ArraySlice(answers.map { $0 + "\n" }.joined().utf8)
        }

        /// The source and external reference a line names, if it names one.
        static func externalKey(_ text: [UInt8]) -> String? {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text)) as? [String: Any],
                let reference = object["externalReference"] as? String
            else { return nil }
            return "\((object["source"] as? String) ?? "")\u{1f}\(reference)"
        }

        private mutating func take(_ line: ArraySlice<UInt8>, tooLong: Bool) {
            lineNumber += 1
            let trimmed = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            if !tooLong && trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }  // blank lines are not tickets
            ready.append((lineNumber, tooLong ? nil : Array(trimmed)))
        }
    }
}
