import BatonAPI
import BatonAgreementFiles
import OpenAPIRuntime
import BatonDomain
import BatonProjections
import EventStore
import Foundation

/// Opening, listing and leasing tickets; rejecting and reassigning them.
extension BatonAPIService {
    // MARK: - Opening

    func openTicket(_ input: Operations.OpenTicket.Input) async throws -> Operations.OpenTicket.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the API document allows only JSON") }
        return await answering(Operations.OpenTicket.Output.default) {
            let principal = try caller()
            guard [.ingest, .agent, .admin].contains(principal.role), let actor = principal.actor else {
                throw APIProblem.forbidden("tickets are opened by ingest sources, agents and admins")
            }
            let details = try Self.details(body, for: principal)
            let commandId = input.headers.idempotencyKey.map { Self.commandId(key: $0, principal: principal, scope: "open") }
            let priority = body.priority.flatMap { Priority(rawValue: $0.rawValue) }
            let opened = try await bindingKey(commandId, to: "\(details)|\(String(describing: priority))") {
                try await opener.open(details, priority: priority, by: actor, at: now(), commandId: commandId)
            }
            let document = Components.Schemas.OpenedTicket(
                ticket: Self.document(opened.ticket),
                routing: Components.Schemas.Routing(
                    queue: opened.routing?.assignment.queue ?? "", agreementId: opened.routing?.assignment.agreementId,
                    agreementVersion: opened.routing?.assignment.agreementVersion, vendorId: opened.routing?.assignment.vendorId,
                    summary: opened.routing?.summary ?? "",
                    trace: principal.role == .ingest ? [] : (opened.routing?.trace ?? []).map { "\($0.outcome) \($0.agreementId)\($0.agreementVersion.map { " v\($0)" } ?? ""): \($0.explanation)" }),
                clocks: opened.clocks.map(Self.document), duplicate: opened.isDuplicate)
            return opened.isDuplicate ? .ok(.init(body: .json(document))) : .created(.init(body: .json(document)))
        }
    }

    /// A ticket's details from an open request, for the caller (an ingest token speaks for its
    /// own source only).
    static func details(_ body: Components.Schemas.OpenTicketRequest, for principal: Principal) throws -> TicketDetails {
        let source: String
        switch (principal.role, body.source) {
        case (.ingest, let given?) where given != principal.subject:
            throw APIProblem.invalid("source", "this token's own source \(principal.subject ?? ""), or nothing")
        case (.ingest, _): source = principal.subject ?? "api"
        case (_, let given?): source = try text(given, "source", max: 100)
        case (_, nil): source = "service-desk"
        }
        return TicketDetails(
            source: source, externalReference: try optionalText(body.externalReference, "externalReference", max: 200),
            requester: try text(body.requester, "requester", max: 200),
            site: try optionalText(body.site, "site", max: 100), department: try optionalText(body.department, "department", max: 100),
            category: TicketCategory(rawValue: body.category.rawValue) ?? .other,
            subcategory: try optionalText(body.subcategory, "subcategory", max: 100),
            impact: body.impact.flatMap { Impact(rawValue: $0.rawValue) } ?? .medium,
            urgency: body.urgency.flatMap { Urgency(rawValue: $0.rawValue) } ?? .medium,
            subject: try text(body.subject, "subject", max: 500), description: try withoutNul(body.description ?? "", "description"),
            channel: body.channel.flatMap { TicketChannel(rawValue: $0.rawValue) } ?? .api)
    }

    static func text(_ value: String, _ field: String, max: Int) throws -> String {
        // Counting characters is slow; most text is short enough in bytes.
        let scalars = value.unicodeScalars
        let trimmed = scalars.first.map { !$0.properties.isWhitespace } == true && scalars.last.map { !$0.properties.isWhitespace } == true
            ? value : String(value.trimmingWhiteSpace())
        guard !trimmed.isEmpty, value.utf8.count <= max || value.count <= max else {
            throw APIProblem.invalid(field, "1 to \(max) characters, not blank")
        }
        return try withoutNul(trimmed, field)
    }

    /// `value`, unless it holds U+0000, which PostgreSQL's text cannot: the ticket index and
    /// the read models take these fields as text.
    static func withoutNul(_ value: String, _ field: String) throws -> String {
        guard !value.utf8.contains(0) else { throw APIProblem.nulCharacter(field) }
        return value
    }

    static func optionalText(_ value: String?, _ field: String, max: Int) throws -> String? {
        guard let value else { return nil }
        return try text(value, field, max: max)
    }

    static func document(_ clock: SLAClock) -> Components.Schemas.Clock {
        let level: String
        switch clock.level {
        case .customer: level = "customer"
        case .assignment(_, let placement): level = placement.agreementId ?? placement.queue
        }
        return Components.Schemas.Clock(
            id: clock.id, kind: clock.kind == .firstResponse ? .firstResponse : .resolution, level: level,
            priority: clock.priority.rawValue, startedAt: clock.startedAt, dueAt: clock.dueAt ?? clock.projectedDueAt,
            stoppedAt: clock.stoppedAt, status: .init(rawValue: clock.status.rawValue) ?? .running,
            pausedMinutes: clock.pauses.reduce(0) { $0 + (($1.to ?? clock.asOf).timeIntervalSince($1.from)) } / 60)
    }

    // MARK: - Listing

    func listTickets(_ input: Operations.ListTickets.Input) async throws -> Operations.ListTickets.Output {
        await answering(Operations.ListTickets.Output.default) {
            let principal = try caller()
            let query = input.query
            var filter = TicketQueries.Filter(
                queues: query.queue.flatMap { $0.isEmpty ? nil : $0 }, priorities: query.priority?.map(\.rawValue), breached: query.breached,
                dueBefore: query.dueBefore)
            if let states = query.state {
                filter.statuses = states.flatMap { $0 == .open ? TicketQueries.openStatuses : [$0.rawValue] }
            }
            switch principal.role {
            case .admin, .agent, .auditor: break
            case .vendor: filter.vendorId = principal.subject ?? "\u{0}"
            case .ingest: filter.source = principal.subject ?? "\u{0}"
            }
            if query.mine == true {
                guard let actor = principal.actor else { throw APIProblem.invalid("mine", "only for callers who hold tickets") }
                filter.holder = actor.rawValue
            }
            let limit = query.limit ?? 50
            guard (1...500).contains(limit) else { throw APIProblem.invalid("limit", "an integer from 1 to 500") }
            let page = try await queries.list(filter, after: query.cursor, limit: limit, now: now())
            return .ok(.init(body: .json(.init(tickets: page.tickets.map(Self.document), nextCursor: page.nextCursor))))
        }
    }

    static func document(_ t: TicketSummary) -> Components.Schemas.TicketSummary {
        Components.Schemas.TicketSummary(
            number: t.number, status: t.status, priority: t.priority, category: t.category, site: t.site, subject: t.subject,
            source: t.source, queue: t.queue, agreementId: t.agreementId, vendorId: t.vendorId, assignee: t.assignee,
            leaseHolder: t.leaseHolder, leaseExpiresAt: t.leaseExpiresAt, holdReason: t.holdReason, holdUntil: t.holdUntil,
            openedAt: t.openedAt, nextDueAt: t.nextDueAt, nextWarningAt: t.nextWarningAt, breached: t.breached,
            version: t.version, updatedAt: t.updatedAt)
    }

    // MARK: - Leases

    func leaseTickets(_ input: Operations.LeaseTickets.Input) async throws -> Operations.LeaseTickets.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the API document allows only JSON") }
        return await answering(Operations.LeaseTickets.Output.default) {
            let principal = try caller()
            guard [.vendor, .agent, .admin].contains(principal.role), let actor = principal.actor else {
                throw APIProblem.forbidden("leases are for vendors, agents and admins")
            }
            let max = body.max ?? 1
            guard (1...50).contains(max) else { throw APIProblem.invalid("max", "an integer from 1 to 50") }
            let wait = body.wait ?? 0
            guard (0...30).contains(wait) else { throw APIProblem.invalid("wait", "seconds from 0 to 30") }
            if let seconds = body.leaseSeconds, !(10...86_400).contains(seconds) {
                throw APIProblem.invalid("leaseSeconds", "seconds from 10 to 86400")
            }
            var queues = try await agreements.queues(for: principal)
            if let queue = body.queue {
                guard queues.contains(queue) else {
                    throw APIProblem(status: 404, code: "queue-not-found", title: "No such queue", detail: "queue: \(queue) is not one of yours (\(queues.joined(separator: ", ")))")
                }
                queues = [queue]
            }
            let deadline = ContinuousClock.now + .seconds(wait)
            while true {
                let seen = projectionsChanged.generation
                let granted = try await leaseDesk.grant(.init(queues: queues, max: max, seconds: body.leaseSeconds, actor: actor))
                if !granted.isEmpty || ContinuousClock.now >= deadline {
                    leasesGranted.increment(by: Int64(granted.count))
                    return .ok(.init(body: .json(.init(leases: granted.map(Self.document)))))
                }
                // Woken when a projection applies new events (a ticket may have entered a queue).
                await projectionsChanged.wait(since: seen, timeout: deadline - ContinuousClock.now)
            }
        }
    }

    func renewLease(_ input: Operations.RenewLease.Input) async throws -> Operations.RenewLease.Output {
        var seconds: Int?
        if case .json(let body) = input.body { seconds = body.leaseSeconds }
        // The renewed lease ends so many seconds from when it runs: a retry is the same request.
        let request = "renew lease for \(seconds.map { "\($0) seconds" } ?? "the agreement's lease length")"
        return await act(input.path.number, key: input.headers.idempotencyKey, action: .lease, request: request) { [agreements] now, ticket in
            if let seconds, !(10...86_400).contains(seconds) { throw APIProblem.invalid("leaseSeconds", "seconds from 10 to 86400") }
            let length: TimeInterval
            if let seconds { length = TimeInterval(seconds) } else { length = try await agreements.leaseLength(queue: ticket.assignment?.placement.queue) }
            return .lease(until: now.addingTimeInterval(length))
        }
        .map(Operations.RenewLease.Output.ok, Operations.RenewLease.Output.default)
    }

    func releaseLease(_ input: Operations.ReleaseLease.Input) async throws -> Operations.ReleaseLease.Output {
        await act(input.path.number, key: input.headers.idempotencyKey, action: .releaseLease) { _, _ in .releaseLease }
            .map(Operations.ReleaseLease.Output.ok, Operations.ReleaseLease.Output.default)
    }

    // MARK: - Rejecting and reassigning

    func rejectTicket(_ input: Operations.RejectTicket.Input) async throws -> Operations.RejectTicket.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the API document allows only JSON") }
        return await act(
            input.path.number, key: input.headers.idempotencyKey, action: .reject,
            { _, _ in .reject(reason: try Self.reason(body.reason)) },
            then: { [agreements, queries, now] ticket in
                // Routed again at once; routing skips the agreement that rejected it.
                guard let set = try await agreements.current() else { return nil }
                let instant = now()
                return set.rerouteCommand(for: ticket, load: try await queries.routingLoad(now: instant), at: instant).map { ($0, .system) }
            }
        )
        .map(Operations.RejectTicket.Output.ok, Operations.RejectTicket.Output.default)
    }

    func reassignTicket(_ input: Operations.ReassignTicket.Input) async throws -> Operations.ReassignTicket.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the API document allows only JSON") }
        // The queue's placement comes from the agreements in force: a retry after they changed
        // is the same request.
        let request = "reassign to \(String(reflecting: body.queue)) because \(String(reflecting: body.reason))"
        return await act(input.path.number, key: input.headers.idempotencyKey, action: .reassign, request: request) { [agreements] _, _ in
            guard let principal = Authentication.principal, principal.role == .agent || principal.role == .admin else {
                throw APIProblem.forbidden("only agents and admins reassign tickets; a vendor rejects instead")
            }
            let queue = try Self.text(body.queue, "queue", max: 100)
            guard let set = try await agreements.current() else { throw TicketOpener.NoAgreements() }
            guard let placement = set.placement(inQueue: queue, at: now()) else {
                throw APIProblem.invalid("queue", "a queue of an agreement in force or \(set.defaultQueue)")
            }
            return .reassign(placement, reason: try Self.reason(body.reason))
        }
        .map(Operations.ReassignTicket.Output.ok, Operations.ReassignTicket.Output.default)
    }
}

extension BatonAPIService {
    // MARK: - Feed

    func getFeed(_ input: Operations.GetFeed.Input) async throws -> Operations.GetFeed.Output {
        await answering(Operations.GetFeed.Output.default) {
            let principal = try caller()
            var after: Int64 = 0
            if let cursor = input.query.after {
                guard let position = Int64(cursor), position >= 0 else { throw APIProblem.invalid("after", "the nextCursor of a previous page") }
                after = position
            }
            let limit = input.query.limit ?? 100
            guard (1...1000).contains(limit) else { throw APIProblem.invalid("limit", "an integer from 1 to 1000") }
            let wait = input.query.wait ?? 0
            guard (0...30).contains(wait) else { throw APIProblem.invalid("wait", "seconds from 0 to 30") }
            let scope: TicketQueries.FeedScope
            switch principal.role {
            case .admin, .agent, .auditor: scope = .everything
            case .vendor: scope = .vendor(principal.subject ?? "\u{0}")
            case .ingest: scope = .source(principal.subject ?? "\u{0}")
            }
            let deadline = ContinuousClock.now + .seconds(wait)
            while true {
                let seen = projectionsChanged.generation
                let page = try await queries.feed(after: after, scope: scope, limit: limit)
                if !page.events.isEmpty || ContinuousClock.now >= deadline {
                    let redact = principal.role == .vendor || principal.role == .ingest
                    return .ok(.init(body: .json(.init(
                        entries: try page.events.map { .init(number: TicketStore.formatNumber($0.number), event: try Self.document($0.event, redactingTrace: redact)) },
                        nextCursor: String(page.resumeAfter)))))
                }
                after = page.resumeAfter
                await projectionsChanged.wait(since: seen, timeout: deadline - ContinuousClock.now)
            }
        }
    }
}

extension BatonAPIService {
    // MARK: - Agreements

    func applyAgreements(_ input: Operations.ApplyAgreements.Input) async throws -> Operations.ApplyAgreements.Output {
        await answering(Operations.ApplyAgreements.Output.default) {
            let principal = try caller()
            guard principal.role == .admin, let actor = principal.actor else {
                throw APIProblem.forbidden("only admins apply agreements")
            }
            let text: String
            switch input.body {
            case .yaml(let body):
                do {
                    text = try await String(collecting: body, upTo: 1 << 20)
                } catch {
                    throw APIProblem.invalid("body", "an agreements document of at most 1 MiB in UTF-8")
                }
            case .json(let object):
                // JSON is YAML: one parser for both.
                text = String(decoding: try JSONEncoder().encode(object), as: UTF8.self)
            }
            let set: AgreementSet
            do {
                set = try AgreementsFile.parse(text, file: "body")
            } catch {
                throw APIProblem(status: 422, code: "invalid-agreements", title: "The agreements document has problems", detail: "\(error)")
            }
            let changes = try await AgreementCatalog(store: tickets.store).apply(set, actor: actor.rawValue, at: now())
            agreements.invalidate()
            return .ok(.init(body: .json(.init(changes: changes.map {
                .init(agreementId: $0.agreementId, action: .init(rawValue: $0.action.rawValue) ?? .unchanged, versions: $0.versions)
            }))))
        }
    }
}
