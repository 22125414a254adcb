import CFileSyncShims
import Crypto
import Dispatch
import FileSyncCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a large file's data (the server's backups, the client's restores) straight to the device (`O_DIRECT`), bypassing the page cache, on a
/// thread of its own so that the disk works while the next block arrives and is hashed.
///
/// Data is gathered in aligned staging buffers; each full buffer is written in aligned blocks while
/// the caller fills the next, with at most ``blocksInFlight`` buffers waiting for the disk. The few
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
        let (sink, freeBuffers, base, at) = (sink, freeBuffers, Int(bitPattern: buffers[current].baseAddress), offset)
        let done = DispatchGroup()
        if hashes {
            let hashed = segments.reduce(0) { $0 + $1.count }
            hashQueue.async(group: done) { sink.hash(count: hashed, from: base) }
        }
        queue.async(group: done) { [segments] in sink.write(segments, from: base, at: at) }
        done.notify(queue: hashQueue) { freeBuffers.signal() }
        freeBuffers.wait()
        let next = (current + 1) % buffers.count
        let leftover = count - start
        if leftover > 0 {
            buffers[next].baseAddress!.copyMemory(from: buffers[current].baseAddress! + start, byteCount: leftover)
        }
        current = next
        count = leftover
        offset += Int64(start)
    }

    /// Part of a buffer to write, written directly or through the page cache.
    private struct Segment: Sendable {
        let start: Int
        let count: Int
        let direct: Bool
    }

    /// The descriptor, used only on the writing thread (and by `deinit` once that is idle), and
    /// the first failure, read by the caller.
    private final class Sink: Sendable {
        let fd: Int32
        private let direct = Atomic(true)
        private let failed = Atomic<Int32>(0)
        /// Updated on the hashing thread only; read by the caller after ``DirectWriter/finish()``.
        let hasher: Mutex<ContentHasher?>

        init(fd: Int32, hasher: sending ContentHasher?) {
            self.fd = fd
            self.hasher = Mutex(hasher)
        }

        /// The `errno` of the first write that failed, if any.
        var failure: Int32? {
            let code = failed.load(ordering: .acquiring)
            return code == 0 ? nil : code
        }

        /// Writes `segments` of the buffer at address `base`, its first byte at file offset `offset`;
        /// nothing once a write has failed.
        func write(_ segments: [Segment], from base: Int, at offset: Int64) {
            guard failure == nil, let base = UnsafeRawPointer(bitPattern: base) else { return }
            for segment in segments {
                let bytes = UnsafeRawBufferPointer(start: base + segment.start, count: segment.count)
                guard segment.direct else {
                    guard setDirect(false), writeFully(fd, bytes, at: offset + Int64(segment.start)) else {
                        return fail(errno)
                    }
                    continue
                }
                // Runs of blocks that are not all zeros; the zero blocks between them stay holes.
                for run in Self.dataRuns(base + segment.start, count: segment.count) {
                    guard
                        write(
                            base + segment.start + run.start, count: run.count,
                            at: offset + Int64(segment.start + run.start))
                    else { return }
                }
            }
        }

        /// Hashes the first `count` bytes of the buffer at address `base` (the segments of one
        /// submission are contiguous from its start).
        func hash(count: Int, from base: Int) {
            hasher.withLock { hasher in
                let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: base), count: count)
                hasher?.update(bufferPointer: bytes)
            }
        }

        /// Writes one run of aligned blocks, directly where the filesystem allows it; `false` (after
        /// recording the failure) if the write failed.
        private func write(_ start: UnsafeRawPointer, count: Int, at: Int64) -> Bool {
            let bytes = UnsafeRawBufferPointer(start: start, count: count)
            var written = false
            if setDirect(true) {
                written = writeFully(fd, bytes, at: at)
                // A filesystem may refuse a direct write it accepted to open (EINVAL): go on
                // buffered.
                if !written && errno != EINVAL {
                    fail(errno)
                    return false
                }
            }
            if !written {
                guard setDirect(false), writeFully(fd, bytes, at: at) else {
                    fail(errno)
                    return false
                }
            }
            return true
        }

        /// The runs of `count` bytes at `base` (whole blocks of ``DirectWriter/alignment``) made of
        /// blocks that hold a byte other than zero.
        static func dataRuns(_ base: UnsafeRawPointer, count: Int) -> [(start: Int, count: Int)] {
            var runs: [(start: Int, count: Int)] = []
            var block = 0
            while block < count {
                let size = min(DirectWriter.alignment, count - block)
                if !isZero(base + block, count: size) {
                    if let last = runs.last, last.start + last.count == block {
                        runs[runs.count - 1].count += size
                    } else {
                        runs.append((block, size))
                    }
                }
                block += size
            }
            return runs
        }

        /// Whether the `count` bytes at `start` are all zero (compared a word at a time).
        static func isZero(_ start: UnsafeRawPointer, count: Int) -> Bool {
            let words = count / 8
            for index in 0..<words where start.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) != 0 {
                return false
            }
            for index in words * 8..<count where start.load(fromByteOffset: index, as: UInt8.self) != 0 {
                return false
            }
            return true
        }

        /// Extends the file to `length` bytes when it is shorter (zero blocks at its end were left
        /// as holes); nothing once a write has failed.
        func extend(to length: Int64) {
            guard failure == nil else { return }
            var info = stat()
            guard fstat(fd, &info) == 0 else { return fail(errno) }
            if Int64(info.st_size) < length && ftruncate(fd, off_t(length)) != 0 { fail(errno) }
        }

        /// Turns direct I/O on or off; `false` if that failed.
        @discardableResult
        func setDirect(_ on: Bool) -> Bool {
            guard direct.load(ordering: .relaxed) != on else { return true }
            guard filesync_set_direct_io(fd, on ? 1 : 0) == 0 else { return false }
            direct.store(on, ordering: .relaxed)
            return true
        }

        func close() { _ = Glibc.close(fd) }

        private func fail(_ code: Int32) {
            failed.store(code == 0 ? EIO : code, ordering: .releasing)
        }
    }
}
