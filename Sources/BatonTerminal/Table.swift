import Foundation

/// Colour on a terminal: green, amber and red for SLA time left, dim for the unimportant.
public enum Tint: Sendable {
    case plain, green, amber, red, dim, bold

    var code: String {
        switch self {
        case .plain: ""
        case .green: "\u{1B}[32m"
        case .amber: "\u{1B}[33m"
        case .red: "\u{1B}[31m"
        case .dim: "\u{1B}[2m"
        case .bold: "\u{1B}[1m"
        }
    }
}

/// One cell: its text and its tint.
public struct Cell: Sendable, ExpressibleByStringLiteral {
    public var text: String
    public var tint: Tint

    public init(_ text: String, _ tint: Tint = .plain) {
        self.text = text
        self.tint = tint
    }

    public init(stringLiteral value: String) { self.init(value) }
}

/// Aligned columns that fit a terminal width: every column as wide as its widest cell, except
/// the one marked flexible (a subject, say), which is cut with "…" to make the line fit.
public struct Table: Sendable {
    public var header: [String]
    public var rows: [[Cell]] = []
    /// The column that gives way when the line is too long.
    public var flexibleColumn: Int?

    public init(header: [String], flexibleColumn: Int? = nil) {
        self.header = header
        self.flexibleColumn = flexibleColumn
    }

    public mutating func append(_ row: [Cell]) { rows.append(row) }

    /// The table as text, `width` columns wide at most, with ANSI colour when `colour`.
    public func render(width: Int, colour: Bool) -> String {
        let all = [header.map { Cell($0, .bold) }] + rows
        var widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].text.count : 0 }.max() ?? 0 }
        let gap = 2
        let total = widths.reduce(0, +) + gap * Swift.max(0, widths.count - 1)
        if total > width, let flexible = flexibleColumn, widths.indices.contains(flexible) {
            let others = total - widths[flexible]
            widths[flexible] = Swift.max(header[flexible].count, width - others)
        }
        var lines: [String] = []
        for row in all {
            var line = ""
            for (column, w) in widths.enumerated() {
                let cell = row.indices.contains(column) ? row[column] : Cell("")
                var text = cell.text
                if text.count > w { text = String(text.prefix(Swift.max(0, w - 1))) + "…" }
                let last = column == widths.count - 1
                let padded = last ? text : text.padding(toLength: w, withPad: " ", startingAt: 0)
                line += colour && cell.tint != .plain ? cell.tint.code + padded + "\u{1B}[0m" : padded
                if !last { line += String(repeating: " ", count: gap) }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// "in 2h 10m", "3d ago", "now": how far an instant is from `now`, to the two largest units.
public func relativeTime(_ date: Date, now: Date) -> String {
    let seconds = Int(date.timeIntervalSince(now).rounded())
    let magnitude = abs(seconds)
    guard magnitude >= 60 else { return "now" }
    let units: [(String, Int)] = [("d", 86_400), ("h", 3_600), ("m", 60)]
    var parts: [String] = []
    var rest = magnitude
    for (name, size) in units where rest >= size && parts.count < 2 {
        parts.append("\(rest / size)\(name)")
        rest %= size
    }
    // Two units only when they are adjacent (2h 10m, not 2d 10m).
    if parts.count == 2, magnitude >= 86_400, !parts[1].hasSuffix("h") { parts.removeLast() }
    let text = parts.joined(separator: " ")
    return seconds > 0 ? "in \(text)" : "\(text) ago"
}

/// What the terminal can show: its width and whether to colour.
public struct Terminal: Sendable {
    public var width: Int
    public var colour: Bool

    public init(width: Int, colour: Bool) {
        self.width = width
        self.colour = colour
    }

    /// The terminal of standard output: `COLUMNS` or the window size (100 when not a
    /// terminal); colour only on a terminal, never with `NO_COLOR` set or `noColour`.
    public static func current(noColour: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) -> Terminal {
        let tty = isatty(STDOUT_FILENO) == 1
        var width = Int(environment["COLUMNS"] ?? "") ?? 0
        if width <= 0, tty {
            var size = winsize()
            if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 { width = Int(size.ws_col) }
        }
        if width <= 0 { width = 100 }
        let noColourSet = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        return Terminal(width: width, colour: tty && !noColour && !noColourSet)
    }
}
