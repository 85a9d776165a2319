import Foundation
@testable import BatonDomain

let officeCalendar = officeHours()
let allHours = BusinessCalendar.twentyFourSeven(timeZone: chicago)

func targets(_ fr: String, _ res: String) -> ServiceTargets { ServiceTargets(firstResponse: SLADuration(fr)!, resolution: SLADuration(res)!) }

let customerSLA = ServiceLevelTerms(
    calendarName: "office", calendar: officeCalendar,
    targets: [.p1: targets("15m", "4h"), .p2: targets("30m", "8bh"), .p3: targets("2bh", "3bd"), .p4: targets("4bh", "5bd")],
    warningThresholds: [0.5, 0.75], pausesOn: [.awaitingCustomer])

let serviceDeskOLA = Agreement(
    id: "service-desk-ola", name: "Service Desk OLA", kind: .inHouse, effectiveFrom: at(2026, 1, 1, 0), queues: ["service-desk"],
    coverage: Coverage(categories: [.helpDesk, .desktopSupport]),
    serviceLevel: ServiceLevelTerms(calendarName: "office", calendar: officeCalendar,
                                    targets: [.p1: targets("10m", "3h"), .p2: targets("20m", "6bh"), .p3: targets("1bh", "2bd")],
                                    pausesOn: [.awaitingCustomer, .scheduled]),
    takesTicketsOutsideHours: false, precedence: 10, caps: VolumeCaps(maxOpenTickets: 120))

let northwindUC = Agreement(
    id: "northwind-helpdesk", name: "Northwind", kind: .vendor, vendorId: "northwind", effectiveFrom: at(2026, 1, 1, 0),
    queues: ["northwind-l1", "northwind-desktop"],
    coverage: Coverage(categories: [.helpDesk, .desktopSupport], sites: ["city-hall", "library-main"]),
    serviceLevel: ServiceLevelTerms(calendarName: "around-the-clock", calendar: allHours,
                                    targets: [.p1: targets("15m", "4h"), .p2: targets("30m", "8h"), .p3: targets("1h", "2d")],
                                    warningThresholds: [0.5, 0.75, 0.9], pausesOn: [.awaitingCustomer, .awaitingChange]),
    takesTicketsOutsideHours: true, precedence: 20, caps: VolumeCaps(maxOpenTickets: 250, maxNewTicketsPerMonth: 1800),
    leasing: LeaseTerms(leaseLength: .calendar(minutes: 30), maxRejections: 1, maxLeaseExpiries: 2),
    breachClauses: [BreachClause(clock: .resolution, moveToQueue: "service-desk-escalations", escalate: true)],
    monthlyFee: Money(amount: 38_500, currency: "USD"),
    creditClauses: [CreditClause(clock: .resolution, belowPercent: 95, creditPercent: 5)])

let prairieV1 = Agreement(
    id: "prairie-wan-lan", name: "Prairie v1", kind: .vendor, vendorId: "prairie-networks", version: 1,
    effectiveFrom: at(2025, 7, 1, 0), effectiveTo: at(2026, 7, 1, 0), queues: ["prairie-network"],
    coverage: Coverage(categories: [.wanLan]),
    serviceLevel: ServiceLevelTerms(calendar: allHours, targets: [.p2: targets("1h", "12h"), .p3: targets("4h", "3d")]),
    takesTicketsOutsideHours: true, precedence: 20)

var prairieV2: Agreement {
    var a = prairieV1
    a.version = 2
    a.name = "Prairie v2"
    a.effectiveFrom = at(2026, 7, 1, 0)
    a.effectiveTo = nil
    return a
}

let agreementSet = AgreementSet(customerSLA: customerSLA, defaultQueue: "service-desk",
                                agreements: [serviceDeskOLA, northwindUC, prairieV1, prairieV2])

func ticket(_ d: TicketDetails = details(), priority: Priority = .p3, rejections: [String: Int] = [:], expiries: [String: Int] = [:]) -> Ticket {
    var t = Stream.opened(priority: priority, details: d).state!
    t.rejections = rejections
    t.leaseExpiries = expiries
    return t
}
