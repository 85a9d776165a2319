import BatonAPI
import Foundation

/// Token administration over the API: what `batond tokens` does, for admins.
extension BatonAPIService {
    private func admin() throws -> Principal {
        let principal = try caller()
        guard principal.role == .admin else { throw APIProblem.forbidden("only admins manage tokens") }
        return principal
    }

    static func document(_ r: TokenStore.Record) -> Components.Schemas.TokenRecord {
        Components.Schemas.TokenRecord(
            id: r.id.uuidString.lowercased(), role: .init(rawValue: r.role.rawValue) ?? .auditor, subject: r.subject, name: r.name,
            hint: r.hint, createdAt: r.createdAt, createdBy: r.createdBy, revokedAt: r.revokedAt)
    }

    func listTokens(_ input: Operations.ListTokens.Input) async throws -> Operations.ListTokens.Output {
        await answering(Operations.ListTokens.Output.default) {
            _ = try admin()
            let records = try await TokenStore(client: tickets.store.client).list(activeOnly: input.query.active == true)
            return .ok(.init(body: .json(.init(tokens: records.map(Self.document)))))
        }
    }

    func createToken(_ input: Operations.CreateToken.Input) async throws -> Operations.CreateToken.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the API document allows only JSON") }
        return await answering(Operations.CreateToken.Output.default) {
            let principal = try admin()
            guard let role = Principal.Role(rawValue: body.role.rawValue) else { throw APIProblem.invalid("role", "admin, agent, vendor, auditor or ingest") }
            let made = try await TokenStore(client: tickets.store.client).create(
                role: role, subject: body.subject, name: try Self.text(body.name, "name", max: 200), createdBy: principal.actor?.rawValue ?? "admin")
            return .created(.init(body: .json(.init(token: made.token, record: Self.document(made.record)))))
        }
    }

    func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output {
        await answering(Operations.RevokeToken.Output.default) {
            let principal = try admin()
            let record = try await TokenStore(client: tickets.store.client).revoke(idPrefix: input.path.id, revokedBy: principal.actor?.rawValue ?? "admin")
            // At once here; other processes forget it when the change's notification arrives.
            tokenCache.forgetAll()
            return .ok(.init(body: .json(Self.document(record))))
        }
    }
}
