import Crypto
import FileSyncCore
import FileSyncSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive `flock(2)` per source folder, so two backups of one source never run at once.
/// The kernel releases it when the process ends, however it ends.
public final class SourceLock: Sendable {
    public let path: String
    private let fd: Int32

    /// Takes the lock for `source`, or throws at once when another process holds it. The lock
    /// lives in `paths.runtime` (``XDGPaths``: `$XDG_RUNTIME_DIR`, else the cache folder).
    public init(source: String, paths: XDGPaths = XDGPaths()) throws {
        let resolved = URL(fileURLWithPath: source).resolvingSymlinksInPath().path
        let base = paths.runtime
        try ConfigFile.makeFolders(base, mode: 0o700)
        let digest = SHA256.hash(data: Array(resolved.utf8)).prefix(8).hexString
        path = base + "/source-\(digest).lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw FileSyncError(.invalidSetting, "cannot create the lock file \(path)", errno: errno)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw SourceLock.Busy(source: resolved, lockPath: path)
        }
        let text = "\(getpid()) \(resolved)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { write(fd, $0, strlen($0)) }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// Another backup of the same source holds the lock.
    public struct Busy: Error, CustomStringConvertible {
        public let source: String
        public let lockPath: String
        public var description: String {
            "another backup of \(source) is already running (lock \(lockPath)); not starting a second one"
        }
    }
}
