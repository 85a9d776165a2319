import ArgumentParser
import BatonAPI
import BatonTerminal
import Foundation
import OpenAPIRuntime

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Auditors' reports: SLA compliance, service credits, breaches.",
        subcommands: [Compliance.self, Credits.self, Breaches.self])

    struct Compliance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "SLA compliance per agreement, vendor, clock and month.",
            discussion: """
                Examples:
                  baton report compliance --month 2026-10
                  baton report compliance --from 2026-07-01T00:00:00Z --to 2026-10-01T00:00:00Z --vendor northwind --by priority
                  baton report compliance --month 2026-10 -o csv > october.csv
                """)
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "A month, YYYY-MM (default: last month).") var month: String?
        @Option(help: "Start (RFC 3339), instead of --month.") var from: String?
        @Option(help: "End (RFC 3339, exclusive).") var to: String?
        @Option(help: "Only this vendor.") var vendor: String?
        @Option(help: "Only this agreement (customer for the customer SLA).") var agreement: String?
        @Option(help: "Break down by priority, category or queue (repeatable).") var by: [String] = []

        func run() async {
            await perform {
                let dimensions = try by.map { text in
                    guard let d = Operations.ComplianceReport.Input.Query.GroupByPayloadPayload(rawValue: text) else {
                        throw Failure(.usage, "--by: \"\(text)\" is not one of priority, category, queue")
                    }
                    return d
                }
                let query = Operations.ComplianceReport.Input.Query(
                    from: try instant(from, option: "--from"), to: try instant(to, option: "--to"), month: month, vendor: vendor,
                    agreement: agreement, groupBy: dimensions.isEmpty ? nil : dimensions)
                let wantCSV = connection.output == .csv
                let answer = try await connection.client().complianceReport(
                    query: query, headers: .init(accept: [.init(contentType: wantCSV ? .csv : .json)]))
                switch answer {
                case .ok(let ok):
                    switch ok.body {
                    case .csv(let body): print(try await String(collecting: body, upTo: 64 << 20), terminator: "")
                    case .json(let json):
                        if connection.output == .json { try printJSON(json.rows); return }
                        let terminal = connection.terminal
                        var table = Table(header: ["AGREEMENT", "VENDOR", "CLOCK", "MONTH"] + by.map { $0.uppercased() } + ["ENDED", "MET", "BREACHED", "COMPLIANCE", "MEAN", "P90", "OPEN PAST DUE"])
                        for r in json.rows {
                            var row: [Cell] = [Cell(r.agreementId), Cell(r.vendorId ?? "-"), Cell(r.kind.rawValue), Cell(r.month)]
                            for d in by {
                                row.append(Cell((d == "priority" ? r.priority : d == "category" ? r.category : r.queue) ?? "-"))
                            }
                            let compliance = r.compliancePercent.map { String(format: "%.1f%%", $0) } ?? "-"
                            row += [Cell("\(r.ended)"), Cell("\(r.met)"), Cell("\(r.breached)", r.breached > 0 ? .red : .plain),
                                    Cell(compliance, (r.compliancePercent ?? 100) < 95 ? .amber : .green),
                                    Cell(r.meanCalendarMinutes.map(minutes) ?? "-"), Cell(r.p90CalendarMinutes.map(minutes) ?? "-"),
                                    Cell("\(r.openPastDue)", r.openPastDue > 0 ? .red : .plain)]
                            table.append(row)
                        }
                        if json.rows.isEmpty { print("no clock ended in that period"); return }
                        print(table.render(width: terminal.width, colour: terminal.colour), terminator: "")
                    }
                case .default(let status, let problem):
                    throw Failure(status: status, problem: try problem.body.applicationProblemJson)
                }
            }
        }
    }

    struct Credits: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Service credits owed for a month, with the figures they came from.",
            discussion: "Examples:\n  baton report credits --month 2026-10\n  baton report credits --month 2026-10 -o csv")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "A month, YYYY-MM (default: last month).") var month: String?

        func run() async {
            await perform {
                let wantCSV = connection.output == .csv
                switch try await connection.client().creditsReport(query: .init(month: month), headers: .init(accept: [.init(contentType: wantCSV ? .csv : .json)])) {
                case .ok(let ok):
                    switch ok.body {
                    case .csv(let body): print(try await String(collecting: body, upTo: 64 << 20), terminator: "")
                    case .json(let json):
                        if connection.output == .json { try printJSON(json.rows); return }
                        let terminal = connection.terminal
                        var table = Table(header: ["AGREEMENT", "VENDOR", "MONTH", "COMPLIANCE", "FEE", "CREDIT", "CLAUSES"], flexibleColumn: 6)
                        for r in json.rows {
                            let figures = r.figures.map { "\($0.kind) \(String(format: "%.1f%%", $0.compliancePercent)) (\($0.met)/\($0.ended))" }.joined(separator: ", ")
                            table.append([
                                Cell(r.agreementId), Cell(r.vendorId ?? "-"), Cell(r.month), Cell(figures.isEmpty ? "-" : figures),
                                Cell(r.monthlyFee.map { "\($0) \(r.currency ?? "")" } ?? "-"), Cell(r.credit, r.credit == "0" ? .plain : .amber),
                                Cell(r.appliedClauses.isEmpty ? "-" : r.appliedClauses.joined(separator: "; ")),
                            ])
                        }
                        print(table.render(width: terminal.width, colour: terminal.colour), terminator: "")
                    }
                case .default(let status, let problem):
                    throw Failure(status: status, problem: try problem.body.applicationProblemJson)
                }
            }
        }
    }

    struct Breaches: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Breached clocks, and clocks running past due, by due instant.",
            discussion: "Example:\n  baton report breaches --from 2026-10-01T00:00:00Z --to 2026-11-01T00:00:00Z")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Start (RFC 3339; default: the start of last month).") var from: String?
        @Option(help: "End (RFC 3339, exclusive; default: the start of this month).") var to: String?
        @Option(help: "Only this vendor.") var vendor: String?

        func run() async {
            await perform {
                let wantCSV = connection.output == .csv
                let query = Operations.BreachesReport.Input.Query(from: try instant(from, option: "--from"), to: try instant(to, option: "--to"), vendor: vendor)
                switch try await connection.client().breachesReport(query: query, headers: .init(accept: [.init(contentType: wantCSV ? .csv : .json)])) {
                case .ok(let ok):
                    switch ok.body {
                    case .csv(let body): print(try await String(collecting: body, upTo: 64 << 20), terminator: "")
                    case .json(let json):
                        if connection.output == .json { try printJSON(json.rows); return }
                        if json.rows.isEmpty { print("no breaches in that period"); return }
                        let terminal = connection.terminal
                        var table = Table(header: ["NUMBER", "CLOCK", "AGREEMENT", "VENDOR", "PRI", "DUE", "STOPPED"])
                        for r in json.rows {
                            table.append([Cell(r.number), Cell(r.clockId), Cell(r.agreementId), Cell(r.vendorId ?? "-"), Cell(r.priority),
                                          Cell(Timeline.format(r.dueAt), .red), Cell(r.stoppedAt.map(Timeline.format) ?? "still running")])
                        }
                        print(table.render(width: terminal.width, colour: terminal.colour), terminator: "")
                    }
                case .default(let status, let problem):
                    throw Failure(status: status, problem: try problem.body.applicationProblemJson)
                }
            }
        }
    }
}

/// "42m", "3h 5m", "2d 4h".
func minutes(_ value: Double) -> String {
    let total = Int(value.rounded())
    if total < 60 { return "\(total)m" }
    if total < 1_440 { return "\(total / 60)h \(total % 60)m" }
    return "\(total / 1_440)d \((total % 1_440) / 60)h"
}
