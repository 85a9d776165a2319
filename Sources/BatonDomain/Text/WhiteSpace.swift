extension StringProtocol {
    /// Whether the text is empty or holds only white space: what trimming Foundation's
    /// `.whitespacesAndNewlines` leaves empty. Foundation's trimming copies the text first and
    /// costs microseconds a call; this stops at the first character that is not white space.
    public var isBlank: Bool {
        unicodeScalars.allSatisfy(Unicode.Scalar.isWhiteSpace)
    }

    /// The text without its leading and trailing white space (as ``isBlank`` reads it): what
    /// Foundation's `trimmingCharacters(in: .whitespacesAndNewlines)` gives.
    public func trimmingWhiteSpace() -> Substring {
        let scalars = Substring(self).unicodeScalars
        guard let first = scalars.firstIndex(where: { !Unicode.Scalar.isWhiteSpace($0) }),
              let last = scalars.lastIndex(where: { !Unicode.Scalar.isWhiteSpace($0) })
        else { return "" }
        return Substring(scalars[first...last])
    }
}

extension Unicode.Scalar {
    /// Unicode's White_Space property (line breaks included), and the zero-width space, which
    /// Foundation's `.whitespacesAndNewlines` also holds.
    static func isWhiteSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || scalar == "\u{200B}"
    }
}
