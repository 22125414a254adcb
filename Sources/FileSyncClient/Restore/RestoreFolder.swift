import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The restore target `DIR`, reached only through descriptors: every path below it is walked a
/// component at a time with `openat(O_NOFOLLOW | O_DIRECTORY)`, so a symlink inside `DIR` (planted
/// before or during the restore) is never followed, and nothing is written outside `DIR`.
///
/// Holds `DIR/.filesync-restore/` (the partial copies and the journal of a cut restore).
public final class RestoreFolder {
    /// The descriptor of `DIR`.
    let descriptor: Int32
    public let path: String
    private var stateDescriptor: Int32 = -1
    private var partialDescriptor: Int32 = -1

    /// Opens `path`, creating it (0755) if it does not exist.
    ///
    /// - Throws: `storageFailed` when it cannot be created or opened as a folder.
    public init(path: String) throws {
        self.path = path
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw Self.failure("cannot create \(path)") }
        descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure("cannot open the folder \(path)") }
    }

    deinit {
        for fd in [descriptor, stateDescriptor, partialDescriptor] where fd >= 0 { close(fd) }
    }

    // MARK: - Walking

    /// The folder at `components` below `DIR`, as a new descriptor the caller closes; missing
    /// folders are created (0755) when `create`.
    ///
    /// - Throws: `storageFailed` (`ENOENT` when missing and not created, `ENOTDIR`/`ELOOP` when a
    ///   file or a symlink is in the way).
    func openFolder(_ components: some Sequence<Substring>, create: Bool) throws -> Int32 {
        var fd = dup(descriptor)
        guard fd >= 0 else { throw Self.failure("cannot duplicate the target's descriptor") }
        for component in components {
            let name = String(component)
            var next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(fd, name, 0o755) != 0 && errno != EEXIST {
                    let error = errno
                    close(fd)
                    throw Self.failure("cannot create the folder \"\(name)\"", errno: error)
                }
                next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let error = errno
            close(fd)
            guard next >= 0 else {
                let why = error == ENOTDIR || error == ELOOP ? " (a file or a symlink is in the way)" : ""
                throw Self.failure("cannot open the folder \"\(name)\"\(why)", errno: error)
            }
            fd = next
        }
        return fd
    }

    /// What is at `path`, nothing followed.
    public func state(of path: RelativePath) -> RestoreLocalState {
        guard let parent = try? openFolder(path.parentComponents, create: false) else {
            return errno == ENOENT ? .absent : .other
        }
        defer { close(parent) }
        guard let status = FileStatus.of(String(path.lastComponent), in: parent) else {
            return errno == ENOENT ? .absent : .other
        }
        switch status.kind {
        case .file: return .file(size: status.size)
        case .directory: return .directory
        case .symbolicLink:
            let target = Symlink.target(of: String(path.lastComponent), in: parent)
            return .symlink(target: target.flatMap { String(validating: $0, as: UTF8.self) })
        case .other: return status.special.map { .special($0) } ?? .other
        }
    }

    /// Removes what is at `path` when it is not a folder (a file, a symlink itself, a special
    /// file), nothing followed on the way; `true` when nothing but a folder is there now.
    func removeNonFolder(_ path: String) -> Bool {
        guard let relative = try? RelativePath(validating: path),
            let parent = try? openFolder(relative.parentComponents, create: false)
        else { return false }
        defer { close(parent) }
        let name = String(relative.lastComponent)
        if let status = FileStatus.of(name, in: parent), status.kind == .directory { return true }
        return unlinkat(parent, name, 0) == 0 || errno == ENOENT
    }

    /// Opens the regular file at `path` for reading, not following a symlink.
    func openFile(_ path: RelativePath) -> Int32 {
        guard let parent = try? openFolder(path.parentComponents, create: false) else { return -1 }
        defer { close(parent) }
        return openat(parent, String(path.lastComponent), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
    }

    // MARK: - State folder

    /// The descriptor of `DIR/.filesync-restore`, created when `create`; `-1` when absent.
    func stateFolder(create: Bool) throws -> Int32 {
        if stateDescriptor < 0 {
            stateDescriptor = (try? openFolder([Substring(RestoreEntry.stateFolderName)], create: create)) ?? -1
            if stateDescriptor < 0 && create { throw Self.failure("cannot create \(RestoreEntry.stateFolderName)") }
        }
        return stateDescriptor
    }

    /// The descriptor of `DIR/.filesync-restore/partial`, created when `create`; `-1` when absent.
    func partialFolder(create: Bool) throws -> Int32 {
        if partialDescriptor < 0 {
            let parent = try stateFolder(create: create)
            guard parent >= 0 else { return -1 }
            if create && mkdirat(parent, "partial", 0o700) != 0 && errno != EEXIST {
                throw Self.failure("cannot create the partial folder")
            }
            partialDescriptor = openat(parent, "partial", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if partialDescriptor < 0 && create { throw Self.failure("cannot open the partial folder") }
        }
        return partialDescriptor
    }

    /// Removes `.filesync-restore` and what it holds (after a complete restore).
    public func removeState() {
        guard let state = try? stateFolder(create: false), state >= 0 else { return }
        if let partial = try? partialFolder(create: false), partial >= 0 {
            for name in DirectoryEntries.names(inDescriptor: partial) { unlinkat(partial, name, 0) }
            close(partial)
            partialDescriptor = -1
            unlinkat(state, "partial", AT_REMOVEDIR)
        }
        unlinkat(state, RestoreJournal.fileName, 0)
        close(state)
        stateDescriptor = -1
        unlinkat(descriptor, RestoreEntry.stateFolderName, AT_REMOVEDIR)
    }

    // MARK: - Metadata

    /// Sets the permission bits (`mode & 0o7777`: setuid, setgid and sticky too, as the snapshot
    /// recorded them), the extended attributes and ACLs when listed (after the mode: an ACL sets the
    /// group bits; `security.capability` only as root) and the mtime (the access time too, as the
    /// server does) of an open file or folder.
    static func apply(
        mode: UInt32, mtimeNs: Int64, owner: (UInt32?, UInt32?) = (nil, nil), xattrs: [ExtendedAttribute]? = nil,
        to fd: Int32
    ) -> Bool {
        // Owners only as root, and before the mode: a change of owner clears setuid and setgid.
        if let uid = owner.0, let gid = owner.1, geteuid() == 0, fchown(fd, uid, gid) != 0 { return false }
        let (seconds, nanoseconds) = mtimeNs.quotientAndRemainder(dividingBy: 1_000_000_000)
        var time = timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds))
        if time.tv_nsec < 0 {
            time.tv_sec -= 1
            time.tv_nsec += 1_000_000_000
        }
        guard fchmod(fd, mode_t(mode & 0o7777)) == 0 else { return false }
        if let xattrs {
            let root = geteuid() == 0
            let failed = ExtendedAttributes.apply(xattrs, in: fd, name: nil) {
                root || $0 != ExtendedAttribute.capability
            }
            guard failed.isEmpty else { return false }
        }
        return futimens(fd, [time, time]) == 0
    }

    static func failure(_ message: String, errno error: Int32 = errno) -> FileSyncError {
        FileSyncError(.storageFailed, message, errno: error)
    }
}
