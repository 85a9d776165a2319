import BatonTerminal
import Foundation
import Testing

@Suite("Tables fit the terminal; colour only when asked")
struct TableTests {
    func queue() -> Table {
        var table = Table(header: ["NUMBER", "PRI", "AGE", "SLA LEFT", "HOLDER", "SUBJECT"], flexibleColumn: 5)
        table.append(["T-1042", "P1", "2h", Cell("-15m", .red), "vendor:northwind", "Dispatch console cannot reach the CAD server after the update"])
        table.append(["T-1043", "P3", "3d", Cell("in 40m", .amber), "", "Printer jams"])
        table.append(["T-1044", "P4", "10m", Cell("in 1d 2h", .green), "agent:ada", "New starter needs a laptop"])
        return table
    }

    @Test("at 80 columns the subject is cut to fit, every other column whole")
    func fitsWidth() {
        let text = queue().render(width: 80, colour: false)
        #expect(text == """
            NUMBER  PRI  AGE  SLA LEFT  HOLDER            SUBJECT
            T-1042  P1   2h   -15m      vendor:northwind  Dispatch console cannot reach the…
            T-1043  P3   3d   in 40m                      Printer jams
            T-1044  P4   10m  in 1d 2h  agent:ada         New starter needs a laptop

            """)
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 80 })
    }

    @Test("with colour, the SLA cells carry green, amber and red, and the header is bold")
    func colour() {
        let text = queue().render(width: 200, colour: true)
        let lines = text.split(separator: "\n")
        #expect(lines[0].hasPrefix("\u{1B}[1mNUMBER"))
        #expect(lines[1].contains("\u{1B}[31m-15m    \u{1B}[0m"))
        #expect(lines[2].contains("\u{1B}[33min 40m  \u{1B}[0m"))
        #expect(lines[3].contains("\u{1B}[32min 1d 2h\u{1B}[0m"))
        // Without colour the same table has no escape at all.
        #expect(!queue().render(width: 200, colour: false).contains("\u{1B}"))
    }

    @Test("relative times: two adjacent units at most, past and future")
    func relative() {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        #expect(relativeTime(now.addingTimeInterval(2 * 3600 + 10 * 60 + 5), now: now) == "in 2h 10m")
        #expect(relativeTime(now.addingTimeInterval(-3 * 86_400 - 600), now: now) == "3d ago")
        #expect(relativeTime(now.addingTimeInterval(86_400 + 2 * 3600), now: now) == "in 1d 2h")
        #expect(relativeTime(now.addingTimeInterval(-15 * 60), now: now) == "15m ago")
        #expect(relativeTime(now.addingTimeInterval(30), now: now) == "now")
    }

    @Test("NO_COLOR and --no-color turn colour off; COLUMNS sets the width")
    func terminal() {
        #expect(Terminal.current(noColour: false, environment: ["NO_COLOR": "1", "COLUMNS": "72"]).colour == false)
        #expect(Terminal.current(noColour: true, environment: ["COLUMNS": "72"]).colour == false)
        #expect(Terminal.current(noColour: false, environment: ["COLUMNS": "72"]).width == 72)
    }
}
