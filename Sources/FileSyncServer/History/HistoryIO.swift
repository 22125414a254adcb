import CFileSyncShims
import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The POSIX steps the history engine repeats: folders opened without following symlinks, objects
/// written to a temporary name, synced, renamed and their folder synced, whole small files read.
enum HistoryIO {
    /// Prefix of every temporary name in the history folders; a crash may leave such files, which
    /// are never read and are deleted by the pruner.
    static let temporaryPrefix = ".tmp-"

    /// Opens the folder at the absolute `path`, creating it (0700) when `create` is set. The last
    /// component must not be a symlink.
    static func openDirectory(_ path: String, create: Bool) throws -> Int32 {
        if create && mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw FileSyncError.storage("create", path)
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw FileSyncError.storage("open", path) }
        return fd
    }

    /// A fresh temporary name, unique enough for one writer per client.
    static func temporaryName(_ suffix: String = "") -> String {
        var generator = SystemRandomNumberGenerator()
        return temporaryPrefix + String(generator.next() as UInt64, radix: 16) + suffix
    }

    /// Writes `bytes` as `name` in the folder `directory`: temporary name, `fsync`, `renameat`, then
    /// `fsync` of the folder, so that a crash leaves either no file or the whole one.
    static func writeDurably(_ bytes: [UInt8], named name: String, in directory: Int32, display: String) throws {
        let temporary = temporaryName()
        let fd = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileSyncError.storage("create", display + "/" + temporary) }
        let written = bytes.withUnsafeBytes { writeFully(fd, $0) } && fsync(fd) == 0
        let code = errno
        close(fd)
        guard written else {
            unlinkat(directory, temporary, 0)
            throw FileSyncError.storage("write", display + "/" + name, errno: code)
        }
        guard renameat(directory, temporary, directory, name) == 0 else {
            let code = errno
            unlinkat(directory, temporary, 0)
            throw FileSyncError.storage("rename into place", display + "/" + name, errno: code)
        }
        try syncDirectory(directory, display: display)
    }

    /// `fsync` of a folder: commits the renames and unlinks done in it.
    static func syncDirectory(_ fd: Int32, display: String) throws {
        guard fsync(fd) == 0 else { throw FileSyncError.storage("sync the folder", display) }
    }

    /// Commits the whole filesystem holding `fd` (`syncfs`): one call for many objects written.
    static func syncFilesystem(_ fd: Int32, display: String) throws {
        guard filesync_syncfs(fd) == 0 else { throw FileSyncError.storage("sync", display) }
    }

    /// The whole content of the regular file `name` in `directory`; `nil` when there is none.
    static func readWhole(named name: String, in directory: Int32, display: String) throws -> [UInt8]? {
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw FileSyncError.storage("open", display + "/" + name)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw FileSyncError.storage("read", display + "/" + name, errno: EINVAL)
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let complete = bytes.withUnsafeMutableBytes { $0.isEmpty || readFully(fd, into: $0, at: 0) }
        guard complete else { throw FileSyncError.storage("read", display + "/" + name) }
        return bytes
    }

    /// The UTF-8 names in the folder `fd` (not `.` and `..`; others are skipped: no client path can
    /// have made them).
    static func names(in fd: Int32) -> [String] {
        DirectoryEntries.names(inDescriptor: fd)
    }

    /// `lstat` of `name` in the folder `fd`, never following a symlink.
    static func status(of name: String, in fd: Int32) -> FileStatus? {
        FileStatus.of(name, in: fd)
    }
}
