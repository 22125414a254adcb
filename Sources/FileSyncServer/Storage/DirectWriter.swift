import CFileSyncShims
import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a large file's data straight to the device (`O_DIRECT`), bypassing the page cache.
///
/// Data is gathered in an aligned staging buffer and written in aligned blocks; the few bytes that
/// cannot be (before the first aligned offset of a resumed partial, after the last full block at the
/// end) go through the page cache as usual. A large backup then costs the server no copy into the
/// page cache, evicts nothing that other programs cache, and leaves nothing dirty for the sync
/// before its commit.
final class DirectWriter {
    /// Offsets and lengths of direct writes are multiples of this (the usual page size covers every
    /// logical block size in use).
    static let alignment = 4096
    /// The staging buffer: each direct write is this size.
    static let capacity = 4 << 20

    private let fd: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    /// Bytes staged in ``buffer``.
    private var count = 0
    /// The file offset of `buffer[0]`.
    private(set) var offset: Int64
    /// Whether `fd` has `O_DIRECT` on now.
    private var isDirect = true

    /// Turns on direct I/O for `fd`, whose next byte goes at `offset`; `nil` where the filesystem
    /// does not support it (the caller then writes through the page cache).
    init?(fd: Int32, offset: Int64) {
        guard filesync_set_direct_io(fd, 1) == 0 else { return nil }
        self.fd = fd
        self.offset = offset
        buffer = .allocate(byteCount: Self.capacity, alignment: Self.alignment)
    }

    deinit { buffer.deallocate() }

    /// Stages `bytes`, writing out every full buffer.
    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var rest = bytes
        while !rest.isEmpty {
            let taken = min(rest.count, Self.capacity - count)
            UnsafeMutableRawBufferPointer(rebasing: buffer[count..<count + taken]).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: rest[..<taken]))
            count += taken
            rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
            if count == Self.capacity, !writeStaged(all: false) { return false }
        }
        return true
    }

    /// Writes out everything staged (the unaligned end through the page cache) and turns direct
    /// I/O off again, so that `fd` can go on as an ordinary descriptor.
    func finish() -> Bool {
        let written = writeStaged(all: true)
        if isDirect { _ = filesync_set_direct_io(fd, 0) }
        isDirect = false
        return written
    }

    // MARK: - Private

    /// Writes the staged bytes: the head up to the next aligned offset through the page cache, then
    /// whole aligned blocks directly; keeps the rest staged unless `all`.
    private func writeStaged(all: Bool) -> Bool {
        var start = 0
        let misalignment = Int(offset % Int64(Self.alignment))
        if misalignment != 0 {
            let head = min(count, Self.alignment - misalignment)
            guard writeBuffered(0..<head) else { return false }
            start = head
        }
        let blocks = (count - start) / Self.alignment * Self.alignment
        if blocks > 0 {
            guard writeDirect(start..<start + blocks) else { return false }
            start += blocks
        }
        if all, start < count {
            guard writeBuffered(start..<count) else { return false }
            start = count
        }
        if start > 0 {
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: count - start)
            count -= start
        }
        return true
    }

    private func writeDirect(_ range: Range<Int>) -> Bool {
        if !isDirect {
            guard filesync_set_direct_io(fd, 1) == 0 else { return writeBuffered(range) }
            isDirect = true
        }
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[range])
        if writeFully(fd, bytes, at: offset) {
            offset += Int64(range.count)
            return true
        }
        // A filesystem may refuse a direct write it accepted to open (EINVAL): go on buffered.
        guard errno == EINVAL else { return false }
        return writeBuffered(range)
    }

    private func writeBuffered(_ range: Range<Int>) -> Bool {
        if isDirect {
            guard filesync_set_direct_io(fd, 0) == 0 else { return false }
            isDirect = false
        }
        guard writeFully(fd, UnsafeRawBufferPointer(rebasing: buffer[range]), at: offset) else { return false }
        offset += Int64(range.count)
        return true
    }
}
