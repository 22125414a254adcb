import FileSyncCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Watches every folder below a root with inotify and reports, coarsely, that something changed.
///
/// The descriptor is read by a thread of its own, blocked in `poll(2)`, never by the cooperative
/// pool. Folders created later (or moved in) are watched as they appear. When the kernel's watch
/// limit is reached, that is reported once (with the number of folders to watch) and the folders
/// beyond it stay unwatched: the caller then relies on periodic scans.
public final class FolderWatcher: Sendable {
    /// What the watch saw, in the order it saw it.
    public enum Event: Sendable, Equatable {
        /// Something was created, written, or moved in, in `folder` (a path below the root).
        case changed(folder: String)
        /// Something was deleted or moved out of `folder`.
        case deleted(folder: String)
        /// The folder `folder` was created or moved in (its parent is reported `changed` too):
        /// what it holds was not watched until now.
        case appeared(folder: String)
        /// The kernel dropped events (`IN_Q_OVERFLOW`): anything may have changed.
        case overflow
        /// `inotify_add_watch` failed with ENOSPC: `watched` folders are watched out of the `needed`
        /// the tree holds. Sent once.
        case limitReached(watched: Int, needed: Int)
    }

    /// The events; it finishes when ``stop()`` is called.
    public let events: AsyncStream<Event>
    private let inotify: Int32
    /// Written to by ``stop()`` so that the reading thread's `poll` returns.
    private let stopPipe: (read: Int32, write: Int32)

    /// For tests only: while a file exists at the path this environment variable names, events
    /// are left unread in the kernel's queue, so that a test can make it overflow for real.
    public static let pauseVariable = "FILESYNC_TEST_WATCH_PAUSE_FILE"

    /// Starts watching `root` and every folder below it (symbolic links are not followed).
    /// - Parameters:
    ///   - skipping: says which folders (paths relative to `root`) are not watched, nor anything
    ///     below them: those the backup leaves out.
    ///   - pausedWhile: for tests: no event is read while a file exists at this path (by default
    ///     the one ``pauseVariable`` names, if set).
    public init(
        root: String, skipping: (@Sendable (String) -> Bool)? = nil,
        pausedWhile: String? = ProcessInfo.processInfo.environment[FolderWatcher.pauseVariable]
    ) throws {
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else {
            throw FileSyncError(.internalError, "cannot watch for changes (inotify_init1)", errno: errno)
        }
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else {
            let code = errno
            close(fd)
            throw FileSyncError(.internalError, "cannot watch for changes (pipe)", errno: code)
        }
        // Not inherited by the processes a run may start (none today, but a descriptor leaks easily).
        for end in pipeFDs { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        inotify = fd
        stopPipe = (pipeFDs[0], pipeFDs[1])
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(65_536))
        events = stream
        // The folders there now are watched before this returns: a change made after it is seen.
        var table = WatchTable(inotify: fd, root: Array(root.utf8), skip: skipping)
        let added = table.addTree(Array(root.utf8))
        let initial = table
        let stopRead = stopPipe.read
        let thread = Thread {
            var watches = initial
            if let limit = added { continuation.yield(limit) }
            FolderWatcher.readLoop(
                inotify: fd, stop: stopRead, pause: pausedWhile, watches: &watches, continuation: continuation)
            continuation.finish()
        }
        thread.name = "filesync-watch"
        thread.start()
    }

    /// The limit on watches in force (`fs.inotify.max_user_watches`, or the user namespace's own
    /// `user.max_inotify_watches` when lower), if it can be read.
    public static var watchLimit: Int? {
        let limits = ["/proc/sys/fs/inotify/max_user_watches", "/proc/sys/user/max_inotify_watches"].compactMap {
            (try? String(contentsOfFile: $0, encoding: .utf8)).flatMap {
                Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        return limits.min()
    }

    /// Ends the watch: the reading thread stops, closes the inotify descriptor, and ``events``
    /// finishes. The stop pipe stays open until this object goes, so a second call is harmless.
    public func stop() {
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
    }

    deinit {
        stop()
        close(stopPipe.write)
        close(stopPipe.read)
    }

    /// Reads and decodes events until ``stop()`` (or an unexpected error), then closes `inotify`.
    private static func readLoop(
        inotify: Int32, stop: Int32, pause: String?, watches: inout WatchTable,
        continuation: AsyncStream<Event>.Continuation
    ) {
        defer { close(inotify) }
        let capacity = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            if let pause, access(pause, F_OK) == 0 {
                // Paused by a test: wait for the stop pipe only, looking at the file again soon.
                var stopping = pollfd(fd: stop, events: Int16(POLLIN), revents: 0)
                if poll(&stopping, 1, 50) > 0 { return }
                continue
            }
            var fds = [
                pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stop, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, 2, -1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0, fds[1].revents == 0 else { return }
            let count = read(inotify, buffer, capacity)
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard count > 0 else { return }
            var offset = 0
            while offset + 16 <= count {
                let wd = buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let mask = buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let length = Int(buffer.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                let nameStart = buffer.advanced(by: offset + 16).assumingMemoryBound(to: UInt8.self)
                let name = Array(
                    UnsafeBufferPointer(start: nameStart, count: min(length, count - offset - 16)).prefix { $0 != 0 })
                offset += 16 + length
                for event in watches.handle(wd: wd, mask: mask, name: name) { continuation.yield(event) }
            }
        }
    }
}
