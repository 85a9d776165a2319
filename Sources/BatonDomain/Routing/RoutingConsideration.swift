import Foundation

/// One agreement version that routing looked at, and what it concluded.
public struct RoutingConsideration: Sendable, Hashable {
    /// Taken, eligible but ranked lower, or skipped.
    public enum Outcome: String, Sendable, Hashable {
        /// The ticket goes here.
        case chosen
        /// Eligible, but another agreement ranked first.
        case passedOver
        /// Not eligible; see the reason.
        case skipped
    }

    /// Why an agreement was taken or not. `explanation` turns it into auditor English.
    public enum Reason: Sendable, Hashable {
        /// Its terms start later.
        case notYetInForce(from: Date)
        /// Its terms have ended.
        case noLongerInForce(to: Date)
        /// A higher version of the same agreement is in force.
        case superseded(byVersion: Int)
        /// The category is not covered.
        case categoryNotCovered(TicketCategory)
        /// The subcategory is not covered.
        case subcategoryNotCovered(String?)
        /// The site is not covered.
        case siteNotCovered(String?)
        /// The department is not covered.
        case departmentNotCovered(String?)
        /// The priority is not covered.
        case priorityNotCovered(Priority)
        /// The vendor already rejected this ticket as often as allowed.
        case rejectedTooOften(count: Int, limit: Int)
        /// Leases on this ticket expired as often as allowed.
        case leaseExpiredTooOften(count: Int, limit: Int)
        /// Closed now, and it does not take tickets outside hours.
        case outsideCoverageHours(calendarName: String?, calendar: BusinessCalendar)
        /// At its open-ticket cap.
        case atOpenCap(open: Int, cap: Int)
        /// At its monthly cap.
        case atMonthlyCap(thisMonth: Int, cap: Int)
        /// Chosen: ranked first.
        case rankedFirst(precedence: Int, load: Int, competitors: Int)
        /// Eligible, but `winner` ranked higher.
        case rankedBelow(winner: String, precedence: Int, load: Int, winnerPrecedence: Int, winnerLoad: Int)

        /// A stable code, e.g. `"atOpenCap"`.
        public var code: String {
            switch self {
            case .notYetInForce: "notYetInForce"
            case .noLongerInForce: "noLongerInForce"
            case .superseded: "superseded"
            case .categoryNotCovered: "categoryNotCovered"
            case .subcategoryNotCovered: "subcategoryNotCovered"
            case .siteNotCovered: "siteNotCovered"
            case .departmentNotCovered: "departmentNotCovered"
            case .priorityNotCovered: "priorityNotCovered"
            case .rejectedTooOften: "rejectedTooOften"
            case .leaseExpiredTooOften: "leaseExpiredTooOften"
            case .outsideCoverageHours: "outsideCoverageHours"
            case .atOpenCap: "atOpenCap"
            case .atMonthlyCap: "atMonthlyCap"
            case .rankedFirst: "rankedFirst"
            case .rankedBelow: "rankedBelow"
            }
        }
    }

    /// The agreement id.
    public var agreementId: String
    /// The version looked at.
    public var agreementVersion: Int
    /// The outcome.
    public var outcome: Outcome
    /// The reason.
    public var reason: Reason

    /// The reason in plain English, for auditors.
    public var explanation: String {
        let who = "Agreement \(agreementId) version \(agreementVersion)"
        func day(_ d: Date) -> String { ISO8601Instant.formatWholeSeconds(d) }
        func times(_ n: Int) -> String { n == 1 ? "once" : "\(n) times" }
        switch reason {
        case .notYetInForce(let from):
            return "\(who) was skipped because it was not yet in force: its terms start at \(day(from))."
        case .noLongerInForce(let to):
            return "\(who) was skipped because it was no longer in force: its terms ended at \(day(to))."
        case .superseded(let v):
            return "\(who) was skipped because version \(v) of the same agreement was in force instead."
        case .categoryNotCovered(let c):
            return "\(who) was skipped because it does not cover the category \(c.rawValue)."
        case .subcategoryNotCovered(let s):
            return "\(who) was skipped because it does not cover the subcategory \(s ?? "(none given)")."
        case .siteNotCovered(let s):
            return "\(who) was skipped because it does not cover the site \(s ?? "(none given)")."
        case .departmentNotCovered(let d):
            return "\(who) was skipped because it does not cover the department \(d ?? "(none given)")."
        case .priorityNotCovered(let p):
            return "\(who) was skipped because it does not cover \(p.rawValue) tickets."
        case .rejectedTooOften(let n, let limit):
            return "\(who) was skipped because its vendor already rejected this ticket \(times(n)) (the agreement allows \(limit))."
        case .leaseExpiredTooOften(let n, let limit):
            return "\(who) was skipped because its leases on this ticket already expired \(times(n)) (the agreement allows \(limit))."
        case .outsideCoverageHours(let name, let calendar):
            let cal = name.map { "\($0): \(calendar)" } ?? calendar.description
            return "\(who) was skipped because it was outside its coverage hours (\(cal)) and it does not take tickets outside them."
        case .atOpenCap(let open, let cap):
            return "\(who) was skipped because it had reached its cap of \(cap) open tickets (\(open) open)."
        case .atMonthlyCap(let n, let cap):
            return "\(who) was skipped because it had reached its cap of \(cap) new tickets this month (\(n) so far)."
        case .rankedFirst(let p, let load, let competitors):
            let others = competitors == 0 ? "it was the only eligible agreement" : "it ranked first of \(competitors + 1) eligible agreements"
            return "\(who) was chosen: it was in force, covered the ticket, could take it now and was under its caps; \(others) (precedence \(p), \(load) open tickets)."
        case .rankedBelow(let winner, let p, let load, let wp, let wl):
            let why = p != wp
                ? "its precedence \(p) comes after \(winner)'s \(wp)"
                : (load != wl ? "with equal precedence \(p), it had \(load) open tickets against \(winner)'s \(wl)"
                    : "with equal precedence and load, \(winner) comes first by id")
            return "\(who) was eligible but not chosen: \(why)."
        }
    }
}
