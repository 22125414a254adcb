import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive lock on one client's history (`flock` of `history/lock`), held by a backup session
/// from its planning to its snapshot and by `filesync-server prune` and `check`: a prune sweeping
/// while a session packs old versions could delete chunks no snapshot names yet.
final class HistoryLock: Sendable {
    private let descriptor: Int32

    /// Waits for the lock on the history at `path` (the `history` folder, which must exist).
    init(historyPath path: String) throws {
        let fd = open(path + "/lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw FileSyncError.storage("open", path + "/lock") }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                close(fd)
                throw FileSyncError.storage("lock", path + "/lock")
            }
        }
        descriptor = fd
    }

    deinit { close(descriptor) }
}
