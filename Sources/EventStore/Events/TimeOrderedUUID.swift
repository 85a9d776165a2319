import Foundation

extension UUID {
    /// A version 7 UUID (RFC 9562): the Unix time in milliseconds in the first 48 bits, then
    /// 74 random bits.
    ///
    /// Ids made in later milliseconds sort after earlier ones (within a millisecond, or if
    /// the clock steps back, in no particular order), so B-tree indexes on them take new keys
    /// near their right edge, as a sequence would, instead of on a random page each: fewer
    /// pages touched and dirtied per insert, and a working set that does not grow with the
    /// table. The log's event ids, and the ids of new tickets without an external reference
    /// (which name their streams), are made this way. They reveal when they were made, to the
    /// millisecond, which an event's or a ticket's own record says anyway. Instants before
    /// 1970 count as 1970; instants after the year 10889 as that year.
    public static func timeOrdered(at instant: Date = Date()) -> UUID {
        var random = SystemRandomNumberGenerator()
        return timeOrdered(at: instant, using: &random)
    }

    /// ``timeOrdered(at:)`` with the random bits from `generator`.
    public static func timeOrdered(at instant: Date, using generator: inout some RandomNumberGenerator) -> UUID {
        let largest = Double(0xFFFF_FFFF_FFFF as UInt64)
        let since1970 = (instant.timeIntervalSince1970 * 1_000).rounded(.down)
        let milliseconds = since1970.isNaN ? 0 : UInt64(min(max(since1970, 0), largest))
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        func byte(_ value: UInt64, _ shift: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: value >> shift) }
        return UUID(uuid: (
            byte(milliseconds, 40), byte(milliseconds, 32), byte(milliseconds, 24),
            byte(milliseconds, 16), byte(milliseconds, 8), byte(milliseconds, 0),
            0x70 | (byte(high, 8) & 0x0F), byte(high, 0),  // version 7, then 12 random bits
            0x80 | (byte(low, 56) & 0x3F), byte(low, 48),  // variant 10, then 62 random bits
            byte(low, 40), byte(low, 32), byte(low, 24), byte(low, 16), byte(low, 8), byte(low, 0)))
    }
}
