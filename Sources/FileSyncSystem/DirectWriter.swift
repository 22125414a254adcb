import CFileSyncShims
import Crypto
import Dispatch
import FileSyncCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a large file's data (the server's backups, the client's restores) straight to the device (`O_DIRECT`), bypassing the page cache, on a
/// thread of its own so that the disk works while the next block arrives and is hashed.
///
/// Data is gathered in aligned staging buffers; each full buffer is written in aligned blocks while
/// the caller fills the next, with at most ``blocksInFlight`` buffers waiting for the disk. A buffer
/// that is aligned already (a received frame's payload) is written from where it is, not copied. The few
/// bytes that cannot be written directly (before the first aligned offset of a resumed partial,
/// after the last full block at the end) go through the page cache as usual. A large backup then
/// costs the server no copy into the page cache, evicts nothing that other programs cache, and
/// leaves nothing dirty for the sync before its commit.
///
/// Blocks of zeros are not written: they are left as holes (the region from the writer's offset on
/// is new, beyond the file's end, so a hole reads as the zeros it stands for), and ``finish()``
/// extends the file to its full length. A sparse disk image thus stays sparse on the server and in
/// a restore (Protocol.md §6.3).
///
/// Writes go through a duplicate of the caller's descriptor, so that the caller may close its own
/// at any time; nothing is written after ``finish()`` returns or the writer is released.
///
/// Given a hasher, a second thread hashes every byte, in file order, while the first writes it: the
/// SHA-256 of a large file then costs the receiving thread nothing, and hashing a buffer overlaps
/// the disk's write of it instead of delaying it (a buffer is free again once both are done).
public final class DirectWriter {
    /// Offsets and lengths of direct writes are multiples of this (the usual page size covers every
    /// logical block size in use).
    public static let alignment = 4096
    /// The size of a staging buffer: each direct write is at most this size.
    public static let capacity = 4 << 20
    /// Full buffers that may wait for the disk while the caller fills another one.
    static let blocksInFlight = 2

    private let sink: Sink
    private let queue = DispatchQueue(label: "filesync.direct-writer")
    /// Hashes staged buffers in file order beside the writes.
    private let hashQueue = DispatchQueue(label: "filesync.direct-writer.hash")
    /// Signalled each time a buffer has been written out (and hashed) and may be filled again.
    private let freeBuffers = DispatchSemaphore(value: DirectWriter.blocksInFlight)
    private let buffers: [UnsafeMutableRawBufferPointer]
    /// The buffer being filled.
    private var current = 0
    /// Bytes staged in the current buffer.
    private var count = 0
    /// The file offset of the current buffer's first byte: every byte before it is written or
    /// queued to be.
    public private(set) var offset: Int64

    /// Turns on direct I/O for `fd`, whose next byte goes at `offset`; `nil` where the filesystem
    /// does not support it (the caller then writes through the page cache).
    ///
    /// - Parameter hashing: whether to hash every byte appended (read the result with ``digest``).
    public convenience init?(fd: Int32, offset: Int64, hashing: Bool = false) {
        self.init(fd: fd, offset: offset, hasher: hashing ? .whole(SHA256()) : nil)
    }

    /// - Parameter hasher: what every byte appended is hashed with, if anything (read the result
    ///   with ``digest``).
    public init?(fd: Int32, offset: Int64, hasher: sending ContentHasher?) {
        let own = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard own >= 0 else { return nil }
        guard filesync_set_direct_io(own, 1) == 0 else {
            close(own)
            return nil
        }
        hashes = hasher != nil
        sink = Sink(fd: own, hasher: hasher)
        self.offset = offset
        buffers = (0...Self.blocksInFlight).map { _ in
            .allocate(byteCount: Self.capacity, alignment: Self.alignment)
        }
    }

    deinit {
        queue.sync {}
        hashQueue.sync {}
        sink.close()
        for buffer in buffers { buffer.deallocate() }
    }

    /// Stages `bytes`, handing every full buffer to the writing thread. Returns `false` (with
    /// `errno` set) once any write failed.
    public func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var rest = bytes
        while !rest.isEmpty {
            if let code = sink.failure {
                errno = code
                return false
            }
            let taken = min(rest.count, Self.capacity - count)
            UnsafeMutableRawBufferPointer(rebasing: buffers[current][count..<count + taken]).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: rest[..<taken]))
            count += taken
            rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
            if count == Self.capacity { submit(all: false) }
        }
        return true
    }

    /// Stages `buffer`'s bytes like ``append(_:)-(UnsafeRawBufferPointer)``; but when nothing is
    /// staged, the file offset is aligned and the bytes start at an aligned address (a frame's
    /// payload made by ``NIOCore/ByteBufferAllocator/pageAligned``), their whole blocks are written
    /// and hashed from `buffer` itself, kept until then: no copy. The rest of it is staged.
    public func append(_ buffer: ByteBuffer) -> Bool {
        let blocks = buffer.readableBytes / Self.alignment * Self.alignment
        let aligned = buffer.withUnsafeReadableBytes { Int(bitPattern: $0.baseAddress) % Self.alignment == 0 }
        guard count == 0, offset % Int64(Self.alignment) == 0, blocks >= Self.minimumHandOver, aligned else {
            return buffer.withUnsafeReadableBytes { append($0) }
        }
        if let code = sink.failure {
            errno = code
            return false
        }
        enqueue(
            .handedOver(buffer.getSlice(at: buffer.readerIndex, length: blocks)!),
            [
                Segment(start: 0, count: blocks, direct: true)
            ])
        offset += Int64(blocks)
        handedOverBytes += Int64(blocks)
        return buffer.withUnsafeReadableBytes { append(UnsafeRawBufferPointer(rebasing: $0[blocks...])) }
    }

    /// The bytes written from buffers handed over (``append(_:)-(ByteBuffer)``) rather than copied.
    private(set) var handedOverBytes: Int64 = 0

    /// Buffers handed to ``append(_:)-(ByteBuffer)`` with fewer whole blocks are copied instead:
    /// a submission of its own costs more than copying a few blocks.
    static let minimumHandOver = 16 * alignment

    /// Writes out everything staged (the unaligned end through the page cache), waits for every
    /// write, and turns direct I/O off again so that the descriptor goes on as an ordinary one.
    /// Returns `false` (with `errno` set) if any write failed.
    public func finish() -> Bool {
        submit(all: true)
        let (sink, end) = (self.sink, offset)
        queue.sync {
            _ = sink.setDirect(false)
            sink.extend(to: end)
        }
        hashQueue.sync {}
        if let code = sink.failure {
            errno = code
            return false
        }
        return true
    }

    /// The digest of every byte appended (``ContentHasher/finalize()``), once ``finish()`` returned
    /// `true`; `nil` if the writer hashes nothing, or content hashed by chunks missed its list.
    public var digest: [UInt8]? {
        sink.hasher.withLock { hasher in hasher?.finalize() }
    }

    /// Whether the writer hashes what it writes (``digest``).
    public let hashes: Bool

    // MARK: - Private

    /// Queues the staged bytes for writing: the head up to the next aligned offset through the page
    /// cache, then whole aligned blocks directly, then (if `all`) the rest through the page cache.
    /// Bytes left over move to the next buffer, which is waited for if all are in flight.
    private func submit(all: Bool) {
        var segments: [Segment] = []
        var start = 0
        let misalignment = Int(offset % Int64(Self.alignment))
        if misalignment != 0 {
            let head = min(count, Self.alignment - misalignment)
            segments.append(Segment(start: 0, count: head, direct: false))
            start = head
        }
        let blocks = (count - start) / Self.alignment * Self.alignment
        if blocks > 0 {
            segments.append(Segment(start: start, count: blocks, direct: true))
            start += blocks
        }
        if all, start < count {
            segments.append(Segment(start: start, count: count - start, direct: false))
            start = count
        }
        guard start > 0 else { return }
        enqueue(.staged(address: Int(bitPattern: buffers[current].baseAddress)), segments)
        let next = (current + 1) % buffers.count
        let leftover = count - start
        if leftover > 0 {
            buffers[next].baseAddress!.copyMemory(from: buffers[current].baseAddress! + start, byteCount: leftover)
        }
        current = next
        count = leftover
        offset += Int64(start)
    }

    /// Queues `segments` of `block` (contiguous from its start, the first at ``offset``) for the
    /// writing thread and, when the writer hashes, the hashing thread; returns once at most
    /// ``blocksInFlight`` submissions are in flight. Both threads take submissions in order, so
    /// those in flight are always the latest ones, and the staging buffer after the current one is
    /// free.
    private func enqueue(_ block: Block, _ segments: [Segment]) {
        let (sink, freeBuffers, at) = (sink, freeBuffers, offset)
        let done = DispatchGroup()
        if hashes {
            let hashed = segments.reduce(0) { $0 + $1.count }
            hashQueue.async(group: done) { block.withAddress { sink.hash(count: hashed, from: $0) } }
        }
        queue.async(group: done) { block.withAddress { sink.write(segments, from: $0, at: at) } }
        done.notify(queue: hashQueue) { freeBuffers.signal() }
        freeBuffers.wait()
    }

    /// What a submission's bytes are in: a staging buffer, or a buffer the caller handed over
    /// (kept until the submission is written and hashed).
    private enum Block: Sendable {
        case staged(address: Int)
        case handedOver(ByteBuffer)

        func withAddress(_ body: (Int) -> Void) {
            switch self {
            case .staged(let address): body(address)
            case .handedOver(let buffer): buffer.withUnsafeReadableBytes { body(Int(bitPattern: $0.baseAddress)) }
            }
        }
    }
}
