import CFileSyncShims
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads file content straight from the device into a `ByteBuffer` (`O_DIRECT`), for a restore.
///
/// A restored file is rarely in the page cache (backups are written past it, ``DirectWriter``), so
/// a plain read makes the kernel fill the cache and then copy every byte out of it, which was most
/// of the server's CPU time in a restore. A direct read lands in the buffer that is then framed
/// and encrypted: no copy, and a restore does not push the server's working set out of the cache.
public enum DirectRead {
    /// The alignment of offsets, lengths and memory that `O_DIRECT` asks for.
    public static let alignment = 4096
    /// The room a buffer needs beyond the bytes read: the alignment of its start and of its length.
    public static let slack = 2 * alignment

    /// What ``read(_:at:count:into:)`` did.
    public enum Outcome: Equatable, Sendable {
        /// The bytes are in the buffer.
        case read
        /// Nothing was appended: the offset is not aligned, the buffer is not empty, or the file
        /// is shorter than asked. A plain read serves this one.
        case notPossible
        /// Nothing was appended: the file system does not do direct reads (tmpfs); do not ask again.
        case unsupported
    }

    /// Appends the `count` bytes at `offset` of `fd` to the empty `buffer` with `O_DIRECT`, then
    /// turns `O_DIRECT` off again (the descriptor is shared with plain reads). The buffer's reader
    /// index moves past the alignment padding, so its readable bytes are exactly the content.
    public static func read(_ fd: Int32, at offset: Int64, count: Int, into buffer: inout ByteBuffer) -> Outcome {
        guard count > 0, offset % Int64(alignment) == 0, buffer.readableBytes == 0 else { return .notPossible }
        guard filesync_set_direct_io(fd, 1) == 0 else { return .unsupported }
        defer { _ = filesync_set_direct_io(fd, 0) }
        let length = (count + alignment - 1) / alignment * alignment
        var padding = 0
        var unsupported = false
        let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length + alignment) { raw in
            let start = Int(bitPattern: raw.baseAddress!)
            padding = (alignment - start % alignment) % alignment
            var got: Int
            repeat { got = pread(fd, raw.baseAddress! + padding, length, off_t(offset)) } while got < 0 && errno == EINTR
            if got < 0 && errno == EINVAL { unsupported = true }
            return got >= count ? padding + count : 0
        }
        guard written > 0 else { return unsupported ? .unsupported : .notPossible }
        buffer.moveReaderIndex(forwardBy: padding)
        return .read
    }
}
