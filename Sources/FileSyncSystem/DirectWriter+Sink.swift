import CFileSyncShims
import FileSyncCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension DirectWriter {
    /// Part of a buffer to write, written directly or through the page cache.
    struct Segment: Sendable {
        let start: Int
        let count: Int
        let direct: Bool
    }

    /// The descriptor, used only on the writing thread (and by `deinit` once that is idle), and
    /// the first failure, read by the caller.
    final class Sink: Sendable {
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
