import CFastCDC

/// Finds content-defined chunk boundaries with FastCDC (gear hash, normalized chunking), so that
/// an insertion or deletion moves only the boundaries next to it and the rest of a file still
/// splits into the same chunks.
///
/// Boundaries are the sender's choice: the receiver never recomputes them (it checks each chunk
/// against its SHA-256), so changing these parameters changes only how much deduplicates.
public struct ChunkCutter: Sendable {
    /// No chunk is shorter than this, except the last of a file.
    public let minSize: Int
    /// The size chunks cluster around.
    public let averageSize: Int
    /// No chunk is longer than this.
    public let maxSize: Int
    private let maskSmall: UInt64
    private let maskLarge: UInt64

    /// 64 KiB minimum (the gear hash skips those bytes: FastCDC is a third of the client's CPU on a
    /// new file), 128 KiB target (about 150 KiB in practice), 512 KiB maximum: a 1 GiB file has about
    /// 7,000 chunks, so its chunk list (36 bytes per chunk) is about 0.02% of it.
    public static let standard = ChunkCutter(minSize: 64 << 10, averageSize: 128 << 10, maxSize: 512 << 10)

    /// - Parameters: sizes in bytes; `averageSize` must be a power of two between the other two.
    public init(minSize: Int, averageSize: Int, maxSize: Int) {
        precondition(minSize > 0 && minSize < averageSize && averageSize < maxSize)
        precondition(averageSize & (averageSize - 1) == 0, "averageSize must be a power of two")
        precondition(maxSize <= ProtocolLimits.maxChunkSize)
        self.minSize = minSize
        self.averageSize = averageSize
        self.maxSize = maxSize
        let bits = averageSize.trailingZeroBitCount
        // Normalization level 2: harder to match before the average, easier after it. The mask
        // uses the hash's top bits, which depend on the last 64 bytes.
        maskSmall = ~UInt64(0) << UInt64(64 - (bits + 2))
        maskLarge = ~UInt64(0) << UInt64(64 - (bits - 2))
    }

    /// The length of the chunk that starts at `bytes`' first byte.
    ///
    /// - Parameters:
    ///   - bytes: the data from the chunk's start on; must hold at least ``maxSize`` bytes unless
    ///     it runs to the end of the file.
    public func cut(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return 0 }
        return Self.gear.withUnsafeBufferPointer { gear in
            fastcdc_cut(
                base.assumingMemoryBound(to: UInt8.self), bytes.count, minSize, averageSize, maxSize, maskSmall,
                maskLarge, gear.baseAddress)
        }
    }

    /// Every chunk length of `bytes`, which hold a whole file.
    public func lengths(of bytes: UnsafeRawBufferPointer) -> [Int] {
        var lengths: [Int] = []
        var offset = 0
        while offset < bytes.count {
            let length = cut(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            lengths.append(length)
            offset += length
        }
        return lengths
    }

    /// 256 pseudo-random 64-bit values from SplitMix64 seeded with the bytes "filesync".
    static let gear: [UInt64] = {
        var state: UInt64 = 0x6669_6C65_7379_6E63
        return (0..<256).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }()
}
