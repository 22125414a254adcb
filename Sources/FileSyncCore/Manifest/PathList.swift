/// Paths held compactly: their UTF-8 bytes back to back, and where each ends (4 bytes per path
/// besides its bytes, against about 50 for a String of more than 15 bytes).
///
/// The bytes are kept in blocks of ``blockSize``: a growing list never copies what it holds into a
/// buffer twice its size, so a million paths take about their own bytes (not up to three times
/// as many while the buffer grows). A path may straddle two blocks.
public struct PathList: Sendable {
    /// Full blocks, then the one being filled (grown as an array until it is full).
    private var blocks: [[UInt8]] = []
    private var ends = BlockArray<UInt32>()
    private let blockSize: Int

    /// The paths of one list add up to at most this many bytes (4 GiB).
    public static let maxBytes = Int(UInt32.max)

    /// Bytes per block (1 MiB).
    public static let standardBlockSize = 1 << 20

    public init() { blockSize = Self.standardBlockSize }

    /// A list with blocks of `blockSize` bytes (tests use small ones).
    init(blockSize: Int) {
        precondition(blockSize > 0)
        self.blockSize = blockSize
    }

    public var count: Int { ends.count }

    /// The bytes of all paths.
    private var byteCount: Int { Int(ends.last ?? 0) }

    /// Appends a path given as its UTF-8 bytes.
    ///
    /// - Throws: `limitExceeded` past ``maxBytes``.
    public mutating func append(_ path: UnsafeRawBufferPointer) throws {
        guard byteCount + path.count <= Self.maxBytes else {
            throw FileSyncError(.limitExceeded, "the manifest's paths exceed \(Self.maxBytes) bytes")
        }
        let end = UInt32(byteCount + path.count)
        appendBytes(path)
        ends.append(end)
    }

    /// Appends every path of `other`.
    public mutating func append(contentsOf other: PathList) throws {
        guard byteCount + other.byteCount <= Self.maxBytes else {
            throw FileSyncError(.limitExceeded, "the manifest's paths exceed \(Self.maxBytes) bytes")
        }
        let base = UInt32(byteCount)
        for block in other.blocks { block.withUnsafeBytes { appendBytes($0) } }
        for index in 0..<other.ends.count { ends.append(other.ends[index] + base) }
    }

    /// The UTF-8 byte count of path `index`.
    public func byteCount(at index: Int) -> Int { Int(ends[index]) - start(of: index) }

    /// Path `index` as a String.
    public func path(at index: Int) -> String {
        withBytes(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the bytes of path `index`.
    public func withBytes<Result>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        let start = start(of: index)
        let end = Int(ends[index])
        guard start < end else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        let block = start / blockSize
        let offset = start - block * blockSize
        if end - block * blockSize <= blockSize {
            return try blocks[block].withUnsafeBytes { bytes in
                try body(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + end - start]))
            }
        }
        // Across the end of a block: put together.
        var joined = [UInt8]()
        joined.reserveCapacity(end - start)
        var position = start
        while position < end {
            let current = position / blockSize
            let from = position - current * blockSize
            let upTo = min(blockSize, end - current * blockSize)
            joined += blocks[current][from..<upTo]
            position = current * blockSize + upTo
        }
        return try joined.withUnsafeBytes(body)
    }

    // MARK: - Private

    private func start(of index: Int) -> Int { index == 0 ? 0 : Int(ends[index - 1]) }

    /// Adds `bytes` at the end, filling the last block before starting the next.
    private mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes[...]
        while !rest.isEmpty {
            if blocks.isEmpty || blocks[blocks.count - 1].count == blockSize { blocks.append([]) }
            let last = blocks.count - 1
            let taken = min(blockSize - blocks[last].count, rest.count)
            // Grown by doubling as usual, but never past a block: a full block holds no spare room.
            let needed = blocks[last].count + taken
            if needed > blocks[last].capacity {
                blocks[last].reserveCapacity(min(blockSize, max(needed, 2 * blocks[last].capacity)))
            }
            blocks[last].append(contentsOf: rest.prefix(taken))
            rest = rest.dropFirst(taken)
        }
    }
}
