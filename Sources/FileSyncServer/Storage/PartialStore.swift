import CFileSyncShims
import Crypto
import FileSyncCore
import FileSyncSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The unfinished transfers of one client, kept outside its visible tree in
/// `<root>/.filesync/<client-id>/partial/` so that they survive a broken session or a server restart.
///
/// A partial is one file, `<hash>_<size>_<mtimeNs>.part`, holding the bytes received so far: `<hash>`
/// is 32 hex digits of the SHA-256 of the relative path, and the size and mtime say which version of
/// the file it is. No separate record is written, so a small file costs no more than its own data.
/// A verified file is renamed from here into the client's folder: same filesystem, atomic.
final class PartialStore {
    /// A partial that matches a manifest entry: the client may continue after `offset` bytes.
    struct Offer {
        /// The partial's file name.
        var name: String
        var offset: Int64
        /// The SHA-256 state after the first `offset` bytes, to continue hashing from.
        var hasher: SHA256
        var prefixSha256: String
    }

    /// The descriptor of the `partial` folder.
    let descriptor: Int32
    let displayPath: String

    /// Opens the partials' folder of `state`, creating it (and the folders above it, 0700) if needed.
    init(_ state: ClientStateDirectory) throws {
        displayPath = state.partials
        var fd = Glibc.open(state.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSyncError.storage("open the storage folder", state.root) }
        for component in state.partialsComponents {
            if mkdirat(fd, component, 0o700) != 0 && errno != EEXIST {
                let code = errno
                close(fd)
                throw FileSyncError.storage("create", displayPath, errno: code)
            }
            let next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let code = errno
            close(fd)
            guard next >= 0 else { throw FileSyncError.storage("open", displayPath, errno: code) }
            fd = next
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// The partial's file name for this version of this file.
    static func name(for path: String, size: Int64, mtimeNs: Int64) -> String {
        SHA256.hash(data: Array(path.utf8)).prefix(16).hexString + "_\(size)_\(mtimeNs).part"
    }

    // MARK: - Resume offers

    /// An offer to resume `entry`, when a partial of exactly this version (path, size, mtime) is held.
    func offer(for entry: ManifestEntry) -> Offer? {
        let name = Self.name(for: entry.path, size: entry.size, mtimeNs: entry.mtimeNs)
        let fd = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return nil }
        let offset = min(Int64(info.st_size), entry.size)
        var hasher = SHA256()
        var remaining = offset
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while remaining > 0 {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, Int(min(Int64($0.count), remaining))) }
            guard count > 0 else { return nil }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            remaining -= Int64(count)
        }
        return Offer(name: name, offset: offset, hasher: hasher, prefixSha256: hasher.finalize().hexString)
    }

    /// Deletes partials last written more than `maxAge` ago.
    func expire(olderThan maxAge: Duration) {
        let cutoff = Date().timeIntervalSince1970 - maxAge.inSeconds
        for name in names() {
            guard let status = FileStatus.of(name, in: descriptor) else { continue }
            // In whole seconds of the write time (never before the epoch: the server wrote it).
            if Double(status.mtimeNs / 1_000_000_000) < cutoff { remove(named: name) }
        }
    }

    /// Deletes every partial except those named in `keeping`.
    func prune(keeping: Set<String>) {
        for name in names() where !keeping.contains(name) { remove(named: name) }
    }

    // MARK: - Writing

    /// Opens the partial for `header`: a new, empty one when `offset` is 0; otherwise the held one,
    /// cut back to exactly `offset` bytes. Returns its name and a descriptor positioned at `offset`.
    func open(for header: FileHeader, offset: Int64) throws -> (name: String, fd: Int32) {
        let name = Self.name(for: header.path, size: header.size, mtimeNs: header.mtimeNs)
        if offset == 0 {
            let fd = openat(descriptor, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw FileSyncError.storage("create a partial file for", header.path) }
            return (name, fd)
        }
        let fd = openat(descriptor, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw FileSyncError.storage("reopen the partial file of", header.path) }
        var info = stat()
        guard fstat(fd, &info) == 0, Int64(info.st_size) >= offset, ftruncate(fd, off_t(offset)) == 0,
            lseek(fd, off_t(offset), SEEK_SET) == off_t(offset)
        else {
            close(fd)
            throw FileSyncError(
                .storageFailed, "the partial file of \"\(header.path)\" no longer holds \(offset) bytes")
        }
        return (name, fd)
    }

    func remove(named name: String) {
        unlinkat(descriptor, name, 0)
    }

    // MARK: - Unnamed files

    /// Whether this filesystem and system can create unnamed files (`O_TMPFILE`) and name them later
    /// (`linkat` through `/proc/self/fd`); probed once, in the partial folder, on first use.
    lazy var supportsUnnamedFiles: Bool = {
        let fd = filesync_open_unnamed(descriptor)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let probe = "probe-\(getpid()).tmp"
        unlinkat(descriptor, probe, 0)
        guard filesync_link_unnamed(fd, descriptor, probe) == 0 else { return false }
        unlinkat(descriptor, probe, 0)
        return true
    }()

    /// Writes the partial's data to stable storage (`fdatasync`).
    func synchronize(named name: String, path: String) throws {
        let fd = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw FileSyncError.storage("reopen the partial file of", path) }
        defer { close(fd) }
        guard fdatasync(fd) == 0 else { throw FileSyncError.storage("sync", path) }
    }

    /// The names of all partials held (and of anything else left in the folder).
    func names() -> [String] {
        DirectoryEntries.names(inDescriptor: descriptor)
    }
}
