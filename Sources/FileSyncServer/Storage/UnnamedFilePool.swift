import CFileSyncShims
import FileSyncSystem
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Unnamed files (`O_TMPFILE`) created ahead of need, on the storage threads (``StorageExecutor``),
/// so that the session receiving many small files does not wait for the filesystem to allocate each inode:
/// that was the largest single cost of storing a small file. A file taken from the pool is given
/// its content, mode and time, and linked into its folder at the commit like any unnamed file; one
/// never taken vanishes when the pool closes it, leaving nothing behind.
final class UnnamedFilePool: Sendable {
    /// The folder the files are created in (a descriptor of the pool's own).
    private let directory: Int32
    /// Its filesystem: a file can only be linked into a folder of the same one.
    private let device: UInt64
    private let state = Mutex(State())

    private struct State {
        var ready: [Int32] = []
        /// The permission bits the files get (0644 less the umask), once known.
        var mode: UInt32?
        /// One refill at a time: the first starts with the pool.
        var refilling = true
        /// Waiting in ``settle()`` for the refill to end.
        var settling: [CheckedContinuation<Void, Never>] = []
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

    /// A ready unnamed file (open for writing) that can be linked into a folder on filesystem
    /// `folderDevice` (its `st_dev`), with its permission bits (0644 less the umask: most files need
    /// no `fchmod` then), or `nil` when none is ready or the folder is on another filesystem: the
    /// caller then creates one.
    func take(forFolderOn folderDevice: UInt64?) -> (fd: Int32, mode: UInt32)? {
        guard folderDevice == device else { return nil }
        let (file, refill) = state.withLock { state -> ((fd: Int32, mode: UInt32)?, Bool) in
            let file = state.mode.flatMap { mode in state.ready.popLast().map { (fd: $0, mode: mode) } }
            let refill = !state.refilling && !state.failed && !state.closed && state.ready.count < Self.depth / 2
            if refill { state.refilling = true }
            return (file, refill)
        }
        if refill { scheduleRefill() }
        return file
    }

    /// Returns once the files being created now are ready (for tests).
    func settle() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if state.refilling { state.settling.append(continuation) }
                return !state.refilling
            }
            if now { continuation.resume() }
        }
    }

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
        StorageExecutor.shared.submit { [self] in
            let wanted = state.withLock { Self.depth - $0.ready.count }
            var made: [Int32] = []
            var failed = false
            for _ in 0..<max(0, wanted) {
                let fd = filesync_open_unnamed_mode(directory, 0o644)
                guard fd >= 0 else {
                    failed = true
                    break
                }
                made.append(fd)
            }
            var info = stat()
            let mode = made.first.flatMap { fstat($0, &info) == 0 ? UInt32(info.st_mode) & 0o777 : nil }
            let (unused, settled) = state.withLock { state -> ([Int32], [CheckedContinuation<Void, Never>]) in
                state.refilling = false
                if failed { state.failed = true }
                if let mode { state.mode = mode }
                defer { state.settling = [] }
                guard !state.closed else { return (made, state.settling) }
                state.ready += made
                return ([], state.settling)
            }
            for fd in unused { Glibc.close(fd) }
            for continuation in settled { continuation.resume() }
        }
    }
}
