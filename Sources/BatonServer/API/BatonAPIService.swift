import BatonAPI
import BatonDomain
import BatonProjections
import Crypto
import EventStore
import Foundation
import Logging
import Metrics
import OpenAPIRuntime

/// The HTTP API of `openapi.yaml`: each generated operation, implemented over the ticket
/// streams. Reads fold the ticket from its events; actions run through ``TicketCommands``.
struct BatonAPIService: APIProtocol {
    let tickets: TicketStore
    let commands: TicketCommands
    let opener: TicketOpener
    let queries: TicketQueries
    let agreements: AgreementCache
    /// Moves on whenever a projection applies events (any replica's), for long polls.
    let projectionsChanged: ChangeSignal
    let idempotency: IdempotencyKeys
    let leaseDesk: LeaseDesk
    /// The principals the authentication middleware remembers, forgotten when tokens change.
    let tokenCache: TokenCache
    let leasesGranted = Counter(label: "baton_leases_granted")
    let logger: Logger
    let now: @Sendable () -> Date

    // MARK: - Identity

    func whoami(_ input: Operations.Whoami.Input) async throws -> Operations.Whoami.Output {
        await answering(Operations.Whoami.Output.default) {
            let principal = try caller()
            return .ok(.init(body: .json(.init(
                name: principal.name, role: .init(rawValue: principal.role.rawValue) ?? .auditor, subject: principal.subject,
                actor: principal.actor?.rawValue ?? "auditor"))))
        }
    }

    // MARK: - Audit and agreements

    func verifyIntegrity(_ input: Operations.VerifyIntegrity.Input) async throws -> Operations.VerifyIntegrity.Output {
        await answering(Operations.VerifyIntegrity.Output.default) {
            let principal = try caller()
            guard principal.role == .auditor || principal.role == .admin else {
                throw APIProblem.forbidden("verifying the log is for auditors and admins")
            }
            let report = try await tickets.store.verify()
            return .ok(.init(body: .json(.init(
                intact: report.isIntact, eventCount: report.eventCount, headHash: report.headHash.hexString,
                brokenAt: report.firstBreak?.position, reason: report.firstBreak?.reason, summary: report.description))))
        }
    }

    func listAgreements(_ input: Operations.ListAgreements.Input) async throws -> Operations.ListAgreements.Output {
        await answering(Operations.ListAgreements.Output.default) {
            let principal = try caller()
            var agreements = try await AgreementCatalog(store: tickets.store).agreements()
            switch principal.role {
            case .admin, .agent, .auditor: break
            case .vendor: agreements = agreements.filter { $0.vendorId != nil && $0.vendorId == principal.subject }
            case .ingest: throw APIProblem.forbidden("an ingest token opens tickets; it does not read agreements")
            }
            return .ok(.init(body: .json(.init(agreements: agreements.map { agreement in
                Components.Schemas.AgreementVersion(
                    id: agreement.id, name: agreement.name, kind: agreement.kind == .vendor ? .vendor : .inHouse,
                    vendorId: agreement.vendorId, version: agreement.version, effectiveFrom: agreement.effectiveFrom,
                    effectiveTo: agreement.effectiveTo, queues: agreement.queues, precedence: agreement.precedence)
            }))))
        }
    }

    // MARK: - Reads

    func getTicket(_ input: Operations.GetTicket.Input) async throws -> Operations.GetTicket.Output {
        await answering(Operations.GetTicket.Output.default) {
            let principal = try caller()
            let (_, current, recorded) = try await visibleTicket(input.path.number, for: principal)
            let set = try await agreements.current()
            func withClocks(_ ticket: Ticket, asOf: Date) throws -> Components.Schemas.Ticket {
                var document = Self.document(ticket)
                let history = try recorded.filter { $0.occurredAt <= asOf }.map(TicketStore.decode)
                document.clocks = set.map { set in
                    var clocks = SLAClocks.compute(events: history, agreements: set, asOf: asOf)
                    if principal.role == .vendor {
                        // The customer's clocks and its own placement's (the last), not those of
                        // the queues the ticket was in before: another vendor's agreement, and
                        // how that vendor did.
                        let sequence = { (clock: SLAClock) -> Int? in
                            if case .assignment(let sequence, _) = clock.level { sequence } else { nil }
                        }
                        let current = clocks.compactMap(sequence).max()
                        clocks.removeAll { clock in sequence(clock).map { $0 != current } ?? false }
                    }
                    return clocks.map(Self.document)
                }
                return document
            }
            guard let asOf = input.query.asOf else { return .ok(.init(body: .json(try withClocks(current, asOf: now())))) }
            if principal.role == .vendor, let start = Self.currentPlacement(in: recorded), asOf < recorded[start].occurredAt {
                throw APIProblem.ticketNotFound(input.path.number)  // before it was this vendor's
            }
            let history = try recorded.filter { $0.occurredAt <= asOf }.map(TicketStore.decode)
            guard let then = TicketDecider.fold(history) else {
                throw APIProblem(status: 404, code: "ticket-not-yet-opened", title: "No such ticket then", detail: "\(input.path.number) was opened after \(asOf.formatted(.iso8601))")
            }
            return .ok(.init(body: .json(try withClocks(then, asOf: asOf))))
        }
    }

    func getTicketEvents(_ input: Operations.GetTicketEvents.Input) async throws -> Operations.GetTicketEvents.Output {
        await answering(Operations.GetTicketEvents.Output.default) {
            let principal = try caller()
            var (_, _, recorded) = try await visibleTicket(input.path.number, for: principal)
            let until = input.query.until ?? .distantFuture
            if principal.role == .vendor {
                // A vendor sees the ticket's history from the moment it entered its queue, and
                // no routing trace (which would name other vendors' agreements and caps).
                recorded = Array(recorded[(Self.currentPlacement(in: recorded) ?? 0)...])
            }
            // Routing traces name other agreements and their caps: not for vendors or sources.
            let redact = principal.role == .vendor || principal.role == .ingest
            return .ok(.init(body: .json(.init(
                events: try recorded.filter { $0.occurredAt <= until }.map { try Self.document($0, redactingTrace: redact) }))))
        }
    }

    // MARK: - Actions

    func acceptTicket(_ input: Operations.AcceptTicket.Input) async throws -> Operations.AcceptTicket.Output {
        await act(input.path.number, key: input.headers.idempotencyKey, action: .accept) { _, _ in .accept }
            .map(Operations.AcceptTicket.Output.ok, Operations.AcceptTicket.Output.default)
    }

    func startTicket(_ input: Operations.StartTicket.Input) async throws -> Operations.StartTicket.Output {
        await act(input.path.number, key: input.headers.idempotencyKey, action: .startWork) { _, _ in .startWork }
            .map(Operations.StartTicket.Output.ok, Operations.StartTicket.Output.default)
    }

    func commentOnTicket(_ input: Operations.CommentOnTicket.Input) async throws -> Operations.CommentOnTicket.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the API document allows only JSON") }
        return await act(input.path.number, key: input.headers.idempotencyKey, action: .comment) { _, _ in
            guard !body.body.isBlank, body.body.count <= 20_000 else { throw APIProblem.invalid("body", "a comment of 1 to 20000 characters") }
            return .comment(body.body, visibility: body.visibility == .requester ? .requester : .internal)
        }
        .map(Operations.CommentOnTicket.Output.ok, Operations.CommentOnTicket.Output.default)
    }

    func holdTicket(_ input: Operations.HoldTicket.Input) async throws -> Operations.HoldTicket.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the API document allows only JSON") }
        return await act(input.path.number, key: input.headers.idempotencyKey, action: .hold, check: { now in
            if let until = body.until, until <= now { throw APIProblem.invalid("until", "an instant in the future") }
        }) { _, _ in
            guard let reason = HoldReason(rawValue: body.reason.rawValue) else { throw APIProblem.invalid("reason", "a hold reason") }
            return .hold(reason, until: body.until, note: body.note)
        }
        .map(Operations.HoldTicket.Output.ok, Operations.HoldTicket.Output.default)
    }

    func resumeTicket(_ input: Operations.ResumeTicket.Input) async throws -> Operations.ResumeTicket.Output {
        await act(input.path.number, key: input.headers.idempotencyKey, action: .resume) { _, _ in .resume }
            .map(Operations.ResumeTicket.Output.ok, Operations.ResumeTicket.Output.default)
    }

    func resolveTicket(_ input: Operations.ResolveTicket.Input) async throws -> Operations.ResolveTicket.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the API document allows only JSON") }
        return await act(input.path.number, key: input.headers.idempotencyKey, action: .resolve) { _, _ in
            guard !body.code.isBlank else { throw APIProblem.invalid("code", "a resolution code such as fixed") }
            guard !body.note.isBlank else { throw APIProblem.invalid("note", "what was done, for the requester and the auditors") }
            return .resolve(code: body.code, note: body.note)
        }
        .map(Operations.ResolveTicket.Output.ok, Operations.ResolveTicket.Output.default)
    }

    func reopenTicket(_ input: Operations.ReopenTicket.Input) async throws -> Operations.ReopenTicket.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the API document allows only JSON") }
        return await act(input.path.number, key: input.headers.idempotencyKey, action: .reopen) { _, _ in .reopen(reason: try Self.reason(body.reason)) }
            .map(Operations.ReopenTicket.Output.ok, Operations.ReopenTicket.Output.default)
    }

    func closeTicket(_ input: Operations.CloseTicket.Input) async throws -> Operations.CloseTicket.Output {
        await act(input.path.number, key: input.headers.idempotencyKey, action: .close) { _, _ in .close }
            .map(Operations.CloseTicket.Output.ok, Operations.CloseTicket.Output.default)
    }

    func cancelTicket(_ input: Operations.CancelTicket.Input) async throws -> Operations.CancelTicket.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the API document allows only JSON") }
        return await act(input.path.number, key: input.headers.idempotencyKey, action: .cancel) { _, _ in .cancel(reason: try Self.reason(body.reason)) }
            .map(Operations.CancelTicket.Output.ok, Operations.CancelTicket.Output.default)
    }

    func escalateTicket(_ input: Operations.EscalateTicket.Input) async throws -> Operations.EscalateTicket.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the API document allows only JSON") }
        return await act(input.path.number, key: input.headers.idempotencyKey, action: .escalate) { _, _ in .escalate(reason: try Self.reason(body.reason)) }
            .map(Operations.EscalateTicket.Output.ok, Operations.EscalateTicket.Output.default)
    }

    func changeTicketPriority(_ input: Operations.ChangeTicketPriority.Input) async throws -> Operations.ChangeTicketPriority.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the API document allows only JSON") }
        return await act(input.path.number, key: input.headers.idempotencyKey, action: .changePriority) { _, _ in
            guard let priority = Priority(rawValue: body.priority.rawValue) else { throw APIProblem.invalid("priority", "one of P1, P2, P3, P4, P5") }
            return .changePriority(priority, reason: body.reason)
        }
        .map(Operations.ChangeTicketPriority.Output.ok, Operations.ChangeTicketPriority.Output.default)
    }

    /// A reason given by a person: not blank, at most 2000 characters.
    static func reason(_ text: String) throws -> String {
        guard !text.isBlank, text.count <= 2_000 else {
            throw APIProblem.invalid("reason", "why, in 1 to 2000 characters")
        }
        return text
    }

    /// Runs one action for the caller and answers with the ticket after it.
    ///
    /// `action` is the command `makeCommand` makes: with the caller's Idempotency-Key it
    /// names the command id, which is looked up before anything else. A retry of a command
    /// already recorded is answered as the first time, whatever the ticket or the agreements
    /// have become since: the ticket may have left the vendor's queues through that very
    /// command (a rejection), or the queue it was moved to may have left the agreements in
    /// force. The key is the caller's own, so the answer shows no more than the first did.
    ///
    /// `request` is what an Idempotency-Key is bound to: the request as sent, when the
    /// command holds something computed from the moment it runs or from the agreements in
    /// force (a lease renewed for so many seconds from now, a move to a queue of an agreement
    /// in force), which a retry must not count as a different request. By default, the
    /// command.
    ///
    /// `check` is what the request must meet at the moment it runs (a hold must end in the
    /// future). It runs after a retry's first answer is looked up: a retry is answered as the
    /// first try was, though the moment has passed since. A refused request frees its key for
    /// a corrected request (see ``releaseKey(_:request:after:)``).
    func act(
        _ number: String, key: String?, action: TicketCommand.Name, request: String? = nil, check: (Date) throws -> Void = { _ in },
        _ makeCommand: (Date, Ticket) async throws -> TicketCommand,
        then followUp: (Ticket) async throws -> (command: TicketCommand, actor: Actor)? = { _ in nil }
    ) async -> ActionAnswer {
        await answering(ActionAnswer.failed) {
            let principal = try caller()
            guard let actor = principal.actor, principal.role != .ingest else {
                throw APIProblem.forbidden("a \(principal.role.rawValue) token may read tickets but not act on them")
            }
            guard let id = try await tickets.ticketId(number: number) else { throw APIProblem.ticketNotFound(number) }
            let instant = now()
            let commandId = key.map { Self.commandId(key: $0, principal: principal, ticketId: id, action: action) }
            if let commandId, let earlier = try await commands.recordedOutcome(of: commandId, on: id) {
                // Bound as the first try was: to the request, or to the command it makes (from
                // the ticket as that try left it; such commands do not depend on it).
                let boundTo: String
                if let request { boundTo = request } else { boundTo = "\(try await makeCommand(instant, earlier.ticket))" }
                try await idempotency.claim(commandId, request: boundTo)
                return done(earlier, for: principal)
            }
            let ticket = try await visibleTicket(id, number: number, for: principal).ticket
            let command = try await makeCommand(instant, ticket)
            assert(command.name == action, "act(action: \(action)) made a \(command.name) command")
            let outcome = try await bindingKey(commandId, to: request ?? "\(command)") {
                // Checked again on the state each attempt decides on: a ticket that left the
                // vendor's queues meanwhile (a write that lost the race and was decided again) is
                // not found, as for any ticket not its own, not refused with where it went.
                try await commands.execute(
                    command, on: id, by: actor, at: instant, commandId: commandId,
                    require: {
                        try check(instant)
                        guard Self.isVisible($0, to: principal) else { throw APIProblem.ticketNotFound(number) }
                    },
                    then: followUp)
            }
            return done(outcome, for: principal)
        }
    }

    /// The answer to an action: the ticket after it, and the events it recorded.
    private func done(_ outcome: TicketCommands.Outcome, for principal: Principal) -> ActionAnswer {
        var shown = outcome.ticket
        if !Self.isVisible(shown, to: principal) {
            // The action took the ticket out of the vendor's queues (a rejection, routed
            // again in the same append): where it went is not the vendor's to see.
            shown.assignment = nil
            shown.lease = nil
        }
        return .done(.init(body: .json(.init(
            ticket: Self.document(shown), events: outcome.events.map(\.event.typeName), repeated: outcome.isDuplicate))))
    }

    /// Runs `body` with the Idempotency-Key's `commandId`, if there is one, claimed for
    /// `request`, and frees it when `body` refuses the request (see
    /// ``releaseKey(_:request:after:)``). Without a key, `request` is never rendered: a
    /// command's text is made by reflection, some 40 µs for an opening.
    func bindingKey<T>(_ commandId: UUID?, to request: @autoclosure () -> String, _ body: () async throws -> T) async throws -> T {
        guard let commandId else { return try await body() }
        let request = request()
        try await idempotency.claim(commandId, request: request)
        do {
            return try await body()
        } catch {
            await releaseKey(commandId, request: request, after: error)
            throw error
        }
    }

    /// Frees the Idempotency-Key of a request refused with `error` (see
    /// ``IdempotencyKeys/release(_:request:)``): by the domain (the ticket's state), or as a
    /// client error (a 4xx, such as a check against the clock). Not after any other failure
    /// (a database error, a ticket that kept changing): another request with the key may
    /// still be on its way, and freeing the key makes it more likely that one succeeds with
    /// the key freed (its command then binds no request again; see
    /// ``IdempotencyKeys/claim(_:request:)``). The request's own failure is what the client is
    /// answered: a key that could not be freed is logged, and stays bound as before.
    private func releaseKey(_ commandId: UUID, request: String, after error: any Error) async {
        switch error {
        case is TicketError: break
        case let problem as APIProblem where (400..<500).contains(problem.status): break
        default: return
        }
        do {
            try await idempotency.release(commandId, request: request)
        } catch {
            logger.warning("could not free the Idempotency-Key of a refused request", metadata: ["error": "\(error)"])
        }
    }

    enum ActionAnswer {
        case done(Components.Responses.ActionDone)
        case failed(Int, Components.Responses.Problem)

        func map<Output>(_ ok: (Components.Responses.ActionDone) -> Output, _ failure: (Int, Components.Responses.Problem) -> Output) -> Output {
            switch self {
            case .done(let done): ok(done)
            case .failed(let status, let problem): failure(status, problem)
            }
        }
    }

    // MARK: - Access

    func caller() throws -> Principal {
        guard let principal = Authentication.principal else { throw APIProblem.unauthenticated }
        return principal
    }

    /// The ticket, if it exists and the principal may see it. A vendor sees only tickets in
    /// its own queues, an ingest source only the tickets it sent; anything else is answered
    /// exactly as a ticket that does not exist.
    ///
    /// Returns the ticket's id, its current state and the stored events it was folded from.
    private func visibleTicket(_ number: String, for principal: Principal) async throws -> (id: UUID, ticket: Ticket, events: [RecordedEvent]) {
        guard let id = try await tickets.ticketId(number: number) else { throw APIProblem.ticketNotFound(number) }
        return try await visibleTicket(id, number: number, for: principal)
    }

    /// ``visibleTicket(_:for:)`` for a ticket whose id is known.
    private func visibleTicket(_ id: UUID, number: String, for principal: Principal) async throws -> (id: UUID, ticket: Ticket, events: [RecordedEvent]) {
        let recorded = try await tickets.store.readStream(TicketStore.streamName(id))
        guard let ticket = TicketDecider.fold(try recorded.map(TicketStore.decode)), Self.isVisible(ticket, to: principal) else {
            throw APIProblem.ticketNotFound(number)
        }
        return (id, ticket, recorded)
    }

    /// Whether `principal` may see `ticket` in this state: a vendor only while the ticket is
    /// in its queues, an ingest source only its own tickets, everyone else every ticket.
    static func isVisible(_ ticket: Ticket, to principal: Principal) -> Bool {
        switch principal.role {
        case .admin, .agent, .auditor: true
        case .vendor: principal.subject != nil && ticket.assignment?.placement.vendorId == principal.subject
        case .ingest: ticket.details.source == principal.subject
        }
    }

    /// Runs a handler's work; any failure becomes the operation's problem response.
    func answering<Output>(
        _ failure: (Int, Components.Responses.Problem) -> Output, _ body: () async throws -> Output
    ) async -> Output {
        do {
            return try await body()
        } catch {
            let problem = problem(error)
            return failure(problem.status, problem.response)
        }
    }

    private func problem(_ error: any Error) -> APIProblem { APIProblem.from(error, logger: logger) }

    /// The command id for an Idempotency-Key: the same key from the same token for the same
    /// action on the same ticket is the same command; anything else is another command.
    static func commandId(key: String, principal: Principal, ticketId: UUID, action: TicketCommand.Name) -> UUID {
        commandId(key: key, principal: principal, scope: "\(ticketId.uuidString)\u{1f}\(action.rawValue)")
    }

    /// The command id for an Idempotency-Key within `scope` (a ticket and action, or `open`).
    static func commandId(key: String, principal: Principal, scope: String) -> UUID {
        let name = "\(principal.tokenId.uuidString)\u{1f}\(scope)\u{1f}\(key)"
        var bytes = Array(SHA256.hash(data: Array(name.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0f) | 0x50  // version 5-style name-based id
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    // MARK: - Documents

    static func document(_ ticket: Ticket) -> Components.Schemas.Ticket {
        let placement = ticket.assignment?.placement
        let lease = ticket.lease
        return Components.Schemas.Ticket(
            id: ticket.id.uuidString.lowercased(), number: ticket.number,
            status: .init(rawValue: ticket.status.rawValue) ?? .unassigned,
            priority: .init(rawValue: ticket.priority.rawValue) ?? .p3,
            subject: ticket.details.subject, description: ticket.details.description,
            category: ticket.details.category.rawValue, subcategory: ticket.details.subcategory,
            requester: ticket.details.requester, site: ticket.details.site, department: ticket.details.department,
            source: ticket.details.source, externalReference: ticket.details.externalReference, openedAt: ticket.openedAt,
            queue: placement?.queue, agreementId: placement?.agreementId, agreementVersion: placement?.agreementVersion,
            vendorId: placement?.vendorId, leaseHolder: lease?.holder.rawValue, leaseExpiresAt: lease?.expiresAt,
            holdReason: ticket.hold?.reason.rawValue, firstRespondedAt: ticket.firstRespondedAt,
            escalationLevel: ticket.escalationLevel, version: ticket.version)
    }

    static func document(_ event: RecordedEvent, redactingTrace: Bool = false) throws -> Components.Schemas.TicketEvent {
        var data = Data(event.data)
        if redactingTrace, var object = try JSONSerialization.jsonObject(with: data) as? [String: Any], object["trace"] != nil {
            object.removeValue(forKey: "trace")
            data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        }
        return Components.Schemas.TicketEvent(
            position: event.position, streamVersion: event.streamVersion, _type: event.type, schemaVersion: event.schemaVersion,
            occurredAt: event.occurredAt, recordedAt: event.recordedAt, actor: event.actor,
            data: try JSONDecoder().decode(Components.Schemas.TicketEvent.DataPayload.self, from: data))
    }

    /// The index of the event that put the ticket in its current queue.
    static func currentPlacement(in events: [RecordedEvent]) -> Int? {
        events.lastIndex { $0.type == TicketRouted.typeName || $0.type == TicketReassigned.typeName }
    }
}
