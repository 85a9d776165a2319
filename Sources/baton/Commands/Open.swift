import ArgumentParser
import BatonAPI
import Foundation

struct Open: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Open a ticket (one taken by phone, say); it is routed at once.",
        discussion: """
            Examples:
              baton open --category desktop-support --site city-hall --subject "Monitor flickers" --requester jdoe
              baton open --category help-desk --subject "Cannot log in" --impact high --urgency high
              baton open --category wan-lan --subject "Library East offline" --priority P1
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "help-desk, desktop-support, wan-lan, server-operations, application-services, training or other.")
    var category: String

    @Option(help: "What is wrong, in one line.")
    var subject: String

    @Option(help: "Who asked (default: you).")
    var requester: String?

    @Option(help: "The site.")
    var site: String?

    @Option(help: "The subcategory (e.g. permitting).")
    var subcategory: String?

    @Option(help: "More detail.")
    var description: String?

    @Option(help: "P1 … P5 (instead of impact and urgency).")
    var priority: String?

    @Option(help: "high, medium or low.")
    var impact: String?

    @Option(help: "high, medium or low.")
    var urgency: String?

    func run() async {
        await perform {
            typealias Request = Components.Schemas.OpenTicketRequest
            guard let category = Request.CategoryPayload(rawValue: category) else {
                throw Failure(.usage, "--category: \"\(self.category)\" is not one of \(Request.CategoryPayload.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if priority != nil, impact != nil || urgency != nil { throw Failure(.usage, "--priority: give either a priority or impact and urgency, not both") }
            let priority = try self.priority.map { text in
                guard let p = Request.PriorityPayload(rawValue: text.uppercased()) else { throw Failure(.usage, "--priority: \"\(text)\" is not one of P1, P2, P3, P4, P5") }
                return p
            }
            let impact = try self.impact.map { text in
                guard let v = Request.ImpactPayload(rawValue: text) else { throw Failure(.usage, "--impact: \"\(text)\" is not one of high, medium, low") }
                return v
            }
            let urgency = try self.urgency.map { text in
                guard let v = Request.UrgencyPayload(rawValue: text) else { throw Failure(.usage, "--urgency: \"\(text)\" is not one of high, medium, low") }
                return v
            }
            let client = try connection.client()
            var requester = self.requester
            if requester == nil, case .ok(let me) = try await client.whoami() { requester = try me.body.json.name }
            let body = Request(
                requester: requester ?? "unknown", site: site, category: category, subcategory: subcategory, impact: impact,
                urgency: urgency, priority: priority, subject: subject, description: description, channel: .phone)
            let opened: Components.Schemas.OpenedTicket
            switch try await client.openTicket(body: .json(body)) {
            case .created(let created): opened = try created.body.json
            case .ok(let ok): opened = try ok.body.json
            case .default(let status, let problem): throw Failure(status: status, problem: try problem.body.applicationProblemJson)
            }
            if connection.output == .json {
                try printJSON(opened)
                return
            }
            let due = opened.clocks.filter { $0.status == .running }.compactMap(\.dueAt).min()
            print("opened \(opened.ticket.number) (\(opened.ticket.priority.rawValue)) in \(opened.routing.queue)\(due.map { ", due \(Timeline.format($0))" } ?? "")")
            print(opened.routing.summary)
        }
    }
}
