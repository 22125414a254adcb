import Crypto
import FileSyncCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file being received: written to a hidden temporary file beside its destination, hashed as it
/// arrives, and only renamed over the destination once complete, verified and synced.
final class IncomingFile {
    let path: RelativePath
    let header: FileHeader
    /// `.filesync-<16 hex digits>.part`, fixed for a given path.
    let temporaryName: String
    private let parentComponents: [Substring]
    private var fd: Int32
    private var hasher = SHA256()
    private(set) var received: Int64 = 0

    /// Creates (truncating any leftover) the temporary file for `header` inside `folder`.
    init(header: FileHeader, path: RelativePath, in folder: ClientFolder) throws {
        self.path = path
        self.header = header
        self.parentComponents = Array(path.components.dropLast())
        self.temporaryName = Self.temporaryName(for: path)
        guard let parent = try folder.parentDirectory(of: path, create: true) else {
            throw FileSyncError.storage("create the folder of", path.string, errno: ENOENT)
        }
        fd = openat(parent, temporaryName, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileSyncError.storage("create a temporary file for", path.string) }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    static func temporaryName(for path: RelativePath) -> String {
        let digest = SHA256.hash(data: Array(path.string.utf8))
        return TemporaryName.prefix + digest.prefix(8).hexString + TemporaryName.suffix
    }

    /// Appends `bytes`, refusing more than the header announced.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard received + Int64(bytes.count) <= header.size else {
            throw FileSyncError(.sizeMismatch, "more data than the \(header.size) bytes announced for \"\(path)\"")
        }
        hasher.update(bufferPointer: bytes)
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw FileSyncError.storage("write", path.string)
            }
            offset += written
        }
        received += Int64(bytes.count)
    }

    /// Checks size and SHA-256, applies mode and mtime, and closes the temporary file.
    /// The caller renames it into place after the next ``ClientFolder/synchronize()``.
    func finish(sha256 expected: String) throws -> PendingRename {
        guard received == header.size else {
            throw FileSyncError(.sizeMismatch, "received \(received) of \(header.size) bytes for \"\(path)\"")
        }
        let actual = hasher.finalize().hexString
        guard actual == expected.lowercased() else {
            throw FileSyncError(.checksumMismatch, "SHA-256 of \"\(path)\" is \(actual), the client said \(expected)")
        }
        guard fchmod(fd, mode_t(header.mode & 0o777)) == 0 else {
            throw FileSyncError.storage("set the mode of", path.string)
        }
        let mtime = timespec(
            tv_sec: Int(header.mtimeNs.floorDiv(1_000_000_000)), tv_nsec: Int(header.mtimeNs.floorMod(1_000_000_000)))
        let times = [mtime, mtime]
        guard futimens(fd, times) == 0 else { throw FileSyncError.storage("set the time of", path.string) }
        guard close(fd) == 0 else {
            fd = -1
            throw FileSyncError.storage("close", path.string)
        }
        fd = -1
        return PendingRename(
            path: path, parentComponents: parentComponents, temporaryName: temporaryName, size: header.size)
    }

    /// Closes and removes the temporary file; the destination is untouched.
    func discard(in folder: ClientFolder) {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        if case .found(let parent)? = try? folder.directory(parentComponents, create: false) {
            unlinkat(parent, temporaryName, 0)
        }
    }
}

/// A verified temporary file waiting for the sync that precedes its rename.
struct PendingRename {
    let path: RelativePath
    let parentComponents: [Substring]
    let temporaryName: String
    let size: Int64

    /// Removes the temporary file without touching the destination.
    func discard(in folder: ClientFolder) {
        if case .found(let parent)? = try? folder.directory(parentComponents, create: false) {
            unlinkat(parent, temporaryName, 0)
        }
    }

    /// Renames the temporary file over the destination (atomically replacing any old version).
    func rename(in folder: ClientFolder) throws {
        guard case .found(let parent) = try folder.directory(parentComponents, create: false) else {
            throw FileSyncError.storage("reopen the folder of", path.string, errno: ENOENT)
        }
        guard renameat(parent, temporaryName, parent, String(path.components.last!)) == 0 else {
            let code = errno
            unlinkat(parent, temporaryName, 0)
            throw FileSyncError.storage("rename into place", path.string, errno: code)
        }
    }
}

extension Int64 {
    fileprivate func floorDiv(_ divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor < 0) ? q - 1 : q
    }
    fileprivate func floorMod(_ divisor: Int64) -> Int64 {
        let r = self % divisor
        return r < 0 ? r + divisor : r
    }
}
