/// An append-only array kept in blocks of ``blockLength`` elements, for the columns of large
/// manifests: growing never copies what it holds into a buffer twice its size, so a million
/// elements take about their own bytes rather than up to three times as many while the buffer
/// grows. Small arrays stay small: the block being filled grows as usual up to a full block.
public struct BlockArray<Element: Sendable>: Sendable {
    /// Full blocks, then the one being filled.
    @usableFromInline var blocks: [[Element]] = []
    @usableFromInline var storedCount = 0
    /// The number of elements.
    @inlinable public var count: Int { storedCount }

    /// Elements per block (65,536: half a megabyte of 8-byte values).
    @inlinable public static var blockLength: Int { 1 << blockShift }
    @usableFromInline static var blockShift: Int { 16 }

    public init() {}

    @inlinable public var isEmpty: Bool { count == 0 }
    @inlinable public var last: Element? { count == 0 ? nil : self[count - 1] }

    @inlinable public subscript(index: Int) -> Element {
        precondition(index >= 0 && index < count, "index out of range")
        return blocks[index >> Self.blockShift][index & (Self.blockLength - 1)]
    }

    @inlinable public mutating func append(_ element: Element) {
        if count & (Self.blockLength - 1) == 0 { blocks.append([]) }
        let last = blocks.count - 1
        if blocks[last].count == blocks[last].capacity {
            // Grown by doubling as usual, but never past a block: a full block holds no spare room.
            blocks[last].reserveCapacity(min(Self.blockLength, Swift.max(16, 2 * blocks[last].capacity)))
        }
        blocks[last].append(element)
        storedCount += 1
    }

    @inlinable public mutating func append(contentsOf elements: some Sequence<Element>) {
        for element in elements { append(element) }
    }
}
