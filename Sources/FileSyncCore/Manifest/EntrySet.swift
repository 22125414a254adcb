/// A set of manifest entry numbers, one bit each: a million entries cost 125 KB.
public struct EntrySet: Sendable, Equatable {
    private var words: [UInt64] = []
    /// The number of entries in the set.
    public private(set) var count = 0

    public init() {}

    /// Adds `entry` (0 or more).
    ///
    /// - Returns: `false` when it was there already.
    @discardableResult
    public mutating func insert(_ entry: Int) -> Bool {
        let (word, bit) = (entry >> 6, UInt64(1) << UInt64(entry & 63))
        if word >= words.count { words += [UInt64](repeating: 0, count: word + 1 - words.count) }
        guard words[word] & bit == 0 else { return false }
        words[word] |= bit
        count += 1
        return true
    }

    /// Takes `entry` out.
    ///
    /// - Returns: `false` when it was not there.
    @discardableResult
    public mutating func remove(_ entry: Int) -> Bool {
        guard contains(entry) else { return false }
        words[entry >> 6] &= ~(UInt64(1) << UInt64(entry & 63))
        count -= 1
        return true
    }

    public func contains(_ entry: Int) -> Bool {
        let word = entry >> 6
        return entry >= 0 && word < words.count && words[word] & (UInt64(1) << UInt64(entry & 63)) != 0
    }

    /// Adds every entry of `other`.
    public mutating func formUnion(_ other: EntrySet) {
        if other.words.count > words.count { words += [UInt64](repeating: 0, count: other.words.count - words.count) }
        count = 0
        for index in words.indices {
            if index < other.words.count { words[index] |= other.words[index] }
            count += words[index].nonzeroBitCount
        }
    }

    /// The entries, in ascending order.
    public var entries: [Int] {
        var result: [Int] = []
        result.reserveCapacity(count)
        for (index, word) in words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                result.append(index << 6 | bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        return result
    }
}
