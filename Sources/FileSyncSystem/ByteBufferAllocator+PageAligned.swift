@_spi(CustomByteBufferAllocator) import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ByteBufferAllocator {
    /// An allocator whose buffers start on a page boundary (``DirectWriter/alignment``).
    ///
    /// The ``FrameAssembler`` builds a frame that spans reads in a buffer of its own; made by this
    /// allocator, a data frame's payload can be written to the disk with direct I/O and hashed
    /// straight from that buffer (``DirectWriter/append(_:)-(ByteBuffer)``), without the copy into a
    /// staging buffer that an arbitrary address needs.
    public static let pageAligned = ByteBufferAllocator(
        allocate: { size in alignedAllocation(size) },
        reallocate: { old, oldSize, newSize in
            guard let new = alignedAllocation(newSize) else { return nil }
            if let old {
                memcpy(new, old, min(oldSize, newSize))
                freeAlignedAllocation(old)
            }
            return new
        },
        deallocate: { pointer in freeAlignedAllocation(pointer) },
        copy: { destination, source, count in _ = memcpy(destination, source, count) }
    )
}

/// `size` bytes at an address that is a multiple of ``DirectWriter/alignment``; `nil` only if
/// memory is exhausted, as `malloc` would.
///
/// The block comes from `malloc`, a page larger, with the address it gave stored just before the
/// aligned one. (`posix_memalign` splits off and frees the bytes before the aligned address, and
/// the heap of a restore that allocates and frees a 1 MiB frame after another grew by a third.)
private func alignedAllocation(_ size: Int) -> UnsafeMutableRawPointer? {
    let alignment = DirectWriter.alignment
    guard let block = malloc(size + alignment) else { return nil }
    let aligned = (Int(bitPattern: block) + MemoryLayout<Int>.size + alignment - 1) & ~(alignment - 1)
    let pointer = UnsafeMutableRawPointer(bitPattern: aligned)!
    pointer.storeBytes(
        of: block, toByteOffset: -MemoryLayout<UnsafeMutableRawPointer>.size, as: UnsafeMutableRawPointer.self)
    return pointer
}

/// Frees what ``alignedAllocation(_:)`` returned.
private func freeAlignedAllocation(_ pointer: UnsafeMutableRawPointer) {
    free(pointer.load(fromByteOffset: -MemoryLayout<UnsafeMutableRawPointer>.size, as: UnsafeMutableRawPointer.self))
}
