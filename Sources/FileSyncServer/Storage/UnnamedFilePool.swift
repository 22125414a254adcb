import CFileSyncShims
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Unnamed files (`O_TMPFILE`) created ahead of need, on a thread of their own, so that the
/// session receiving many small files does not wait for the filesystem to allocate each inode:
/// that was the largest single cost of storing a small file. A file taken from the pool is given
/// its content, mode and time, and linked into its folder at the commit like any unnamed file; one
/// never taken vanishes when the pool closes it, leaving nothing behind.
final class UnnamedFilePool: Sendable {
    /// The folder the files are created in (a descriptor of the pool's own).
    private let directory: Int32
    /// Its filesystem: a file can only be linked into a folder of the same one.
    private let device: UInt64
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "filesync.unnamed-files")

    private struct State {
        var ready: [Int32] = []
        var refilling = false
        var closed = false
        /// Creating one failed: the pool stops, and callers create their own files.
        var failed = false
    }

    /// Files kept ready.
    static let depth = 64

    /// A pool creating its files in `directory`, or `nil` when it cannot be opened.
    init?(directory fd: Int32) {
        let own = dup(fd)
        var info = stat()
        guard own >= 0, fstat(own, &info) == 0 else {
            if own >= 0 { Glibc.close(own) }
            return nil
        }
        directory = own
        device = UInt64(info.st_dev)
        scheduleRefill()
    }

    deinit { Glibc.close(directory) }

    /// A ready unnamed file (open for writing, mode 0600) that can be linked into `folder`, or
    /// `nil` when none is ready or `folder` is on another filesystem: the caller then creates one.
    func take(for folder: Int32) -> Int32? {
        var info = stat()
        guard fstat(folder, &info) == 0, UInt64(info.st_dev) == device else { return nil }
        let (fd, refill) = state.withLock { state -> (Int32?, Bool) in
            let fd = state.ready.popLast()
            let refill = !state.refilling && !state.failed && !state.closed && state.ready.count < Self.depth / 2
            if refill { state.refilling = true }
            return (fd, refill)
        }
        if refill { scheduleRefill() }
        return fd
    }

    /// Returns once the files being created now are ready (for tests).
    func settle() { queue.sync {} }

    /// Closes the files never taken (they vanish) and stops creating more.
    func close() {
        let unused = state.withLock { state in
            state.closed = true
            defer { state.ready = [] }
            return state.ready
        }
        for fd in unused { Glibc.close(fd) }
    }

    private func scheduleRefill() {
        queue.async { [self] in
            let wanted = state.withLock { Self.depth - $0.ready.count }
            var made: [Int32] = []
            var failed = false
            for _ in 0..<max(0, wanted) {
                let fd = filesync_open_unnamed(directory)
                guard fd >= 0 else {
                    failed = true
                    break
                }
                made.append(fd)
            }
            let unused = state.withLock { state -> [Int32] in
                state.refilling = false
                if failed { state.failed = true }
                guard !state.closed else { return made }
                state.ready += made
                return []
            }
            for fd in unused { Glibc.close(fd) }
        }
    }
}
