import CFileSyncShims
import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A client's folder under the server root, `<root>/<client-id>`.
///
/// Every access goes through file descriptors opened component by component with `O_NOFOLLOW`, so
/// a symlink planted anywhere in the client's folder can never lead a write outside it: a path
/// whose way is blocked by a symlink or a file fails with a clear error instead.
///
/// Not thread-safe: a folder belongs to the one session that is active.
final class ClientFolder {
    let id: ClientID
    /// The folder's path, for messages only; never used to open anything below it.
    let displayPath: String
    /// The descriptor of the client's folder itself.
    let descriptor: Int32
    private var cachedDirectory: (components: [Substring], descriptor: Int32)?
    /// The filesystems (`st_dev`) of the client folder and of the cached folder, read once each.
    private var ownDevice: UInt64?
    private var cachedDevice: UInt64?
    /// The cached folder's path (its components joined with `/`), to recognize it without splitting
    /// a path.
    private var cachedDirectoryPath: String?
    /// A folder found missing by the last lookup: everything below it is missing too, without asking.
    private var knownMissing: [Substring]?

    /// Opens (creating if needed, mode 0700: only the server's user may enter it, whatever the
    /// modes of the files inside) `<root>/<id>`. The root is the administrator's choice and may be a
    /// symlink; the client folder may not. With `create` false (a dry run), a missing folder is an
    /// error, as when it cannot be opened.
    init(root: String, id: ClientID, create: Bool = true) throws {
        self.id = id
        self.displayPath = root.hasSuffix("/") ? root + id.string : root + "/" + id.string
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw FileSyncError.storage("open the storage folder", root) }
        defer { close(rootFD) }
        if create && mkdirat(rootFD, id.string, 0o700) == 0 {
            // The new folder's name is durable only once the root is synced (POSIX; ext4's
            // journal happens to do it with the next sync of anything).
            guard fsync(rootFD) == 0 else { throw FileSyncError.storage("sync the storage folder", root) }
        } else if create && errno != EEXIST {
            throw FileSyncError.storage("create the client folder", displayPath)
        }
        let fd = openat(rootFD, id.string, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            throw FileSyncError.storage("open the client folder (it must be a real folder, not a symlink)", displayPath)
        }
        self.descriptor = fd
    }

    deinit {
        if let cached = cachedDirectory { close(cached.descriptor) }
        close(descriptor)
    }

    // MARK: - Directories

    /// The outcome of walking to a folder.
    enum Walk {
        case found(Int32)
        /// Some component does not exist (and `create` was false).
        case missing
        /// Some component is a symlink, a file or something else that is not a folder.
        case blocked(String)
    }

    /// Opens the folder at `components` below the client folder, creating missing folders with
    /// `mode` when `create` is set. The returned descriptor is owned by the folder's cache: do not
    /// close it, and do not use it after the next call.
    func directory(_ components: [Substring], create: Bool, mode: mode_t = 0o755) throws -> Walk {
        if components.isEmpty { return .found(descriptor) }
        if let cached = cachedDirectory, cached.components == components { return .found(cached.descriptor) }
        if !create, let missing = knownMissing, components.starts(with: missing) { return .missing }
        knownMissing = nil
        var current = dup(descriptor)
        guard current >= 0 else { throw FileSyncError.storage("duplicate a descriptor of", displayPath) }
        for (index, component) in components.enumerated() {
            let name = String(component)
            var next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT {
                guard create else {
                    close(current)
                    knownMissing = Array(components[...index])
                    return .missing
                }
                if mkdirat(current, name, mode) != 0 && errno != EEXIST {
                    let code = errno
                    close(current)
                    throw FileSyncError.folderCreation(components[...index].joined(separator: "/"), errno: code)
                }
                NewFolders.created(in: components[..<index].joined(separator: "/"), of: displayPath)
                next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let code = errno
            close(current)
            guard next >= 0 else {
                let where_ = components[...index].joined(separator: "/")
                if code == ELOOP || code == ENOTDIR {
                    return .blocked("\"\(where_)\" on the server is a symlink or a file, not a folder")
                }
                throw FileSyncError.storage("open folder", where_, errno: code)
            }
            current = next
        }
        if let cached = cachedDirectory { close(cached.descriptor) }
        cachedDirectory = (components, current)
        cachedDevice = nil
        cachedDirectoryPath = components.joined(separator: "/")
        return .found(current)
    }

    /// The filesystem (`st_dev`) of `fd`, a folder descriptor this folder returned: asked of the
    /// system once per folder opened rather than once per file stored in it.
    func device(ofDirectory fd: Int32) -> UInt64? {
        func device(_ fd: Int32) -> UInt64? {
            var info = stat()
            return fstat(fd, &info) == 0 ? UInt64(info.st_dev) : nil
        }
        if fd == descriptor {
            if ownDevice == nil { ownDevice = device(fd) }
            return ownDevice
        }
        guard let cached = cachedDirectory, cached.descriptor == fd else { return device(fd) }
        if cachedDevice == nil { cachedDevice = device(fd) }
        return cachedDevice
    }

    /// Drops the cached descriptor when it is the folder at `components` (or below it), before that
    /// folder is removed.
    func forgetCachedDirectory(at components: [Substring]) {
        guard let cached = cachedDirectory, cached.components.starts(with: components) else { return }
        close(cached.descriptor)
        cachedDirectory = nil
        cachedDevice = nil
        cachedDirectoryPath = nil
    }

    /// Like ``directory(_:create:mode:)`` for the parent of `path`, throwing when it is blocked.
    func parentDirectory(of path: RelativePath, create: Bool) throws -> Int32? {
        let components = Array(path.components.dropLast())
        switch try directory(components, create: create) {
        case .found(let fd): return fd
        case .missing: return nil
        case .blocked(let reason): throw FileSyncError(.typeConflict, reason)
        }
    }

    // MARK: - Metadata

    /// What the server holds at `path`, without following any symlink; `nil` when nothing is there.
    func storedEntry(at path: RelativePath, xattrs: Bool = false) -> StoredEntry? {
        let name = String(path.lastComponent)
        let parent: Int32
        // Entries of one folder come one after another: most find their folder already open.
        if let cached = cachedDirectory, let cachedPath = cachedDirectoryPath,
            path.string.utf8.count == cachedPath.utf8.count + 1 + name.utf8.count,
            path.string.utf8.starts(with: cachedPath.utf8),
            path.string.utf8.dropFirst(cachedPath.utf8.count).first == UInt8(ascii: "/")
        {
            parent = cached.descriptor
        } else {
            switch try? directory(path.parentComponents, create: false) {
            case .found(let fd): parent = fd
            case .missing, nil: return nil
            case .blocked: return StoredEntry(type: .blocked, size: 0, mtimeNs: 0, mode: 0)
            }
        }
        guard var stored = FileStatus.of(name, in: parent).map(StoredEntry.init(status:)) else { return nil }
        if stored.type == .symlink {
            stored.target = Symlink.target(of: name, in: parent).flatMap { String(validating: $0, as: UTF8.self) }
        } else if xattrs && (stored.type == .file || stored.type == .dir) {
            stored.xattrs = ExtendedAttributes.read(in: parent, name: name)
        }
        return stored
    }

    /// Creates the folder at `path` if needed and sets its permission bits (keeping it writable for
    /// the server).
    func makeDirectory(_ path: RelativePath, mode: UInt32) throws {
        let components = path.components
        switch try directory(components, create: true) {
        case .found(let fd):
            if fchmod(fd, mode_t((mode & 0o777) | 0o700)) != 0 {
                throw FileSyncError.storage("set the mode of", path.string)
            }
        case .missing: throw FileSyncError.storage("create folder", path.string, errno: ENOENT)
        case .blocked(let reason): throw FileSyncError(.typeConflict, reason)
        }
    }

    /// Sets the permission bits of the file at `path` (setuid, setgid and sticky bits are never applied).
    func setMode(of path: RelativePath, to mode: UInt32) throws {
        guard let parent = try parentDirectory(of: path, create: false) else { return }
        let name = String(path.components.last!)
        let fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw FileSyncError.storage("open", path.string) }
        defer { close(fd) }
        guard fchmod(fd, mode_t(mode & 0o777)) == 0 else { throw FileSyncError.storage("set the mode of", path.string) }
    }

    /// Commits everything written so far to stable storage (one `syncfs(2)` for the whole filesystem).
    func synchronize() throws {
        // Taken before the sync: a folder made while it runs stays recorded for the next one.
        let parents = NewFolders.take(for: displayPath)
        guard filesync_syncfs(descriptor) == 0 else {
            let failure = FileSyncError.storage("sync", displayPath)
            NewFolders.restore(parents, for: displayPath)
            throw failure
        }
    }

    /// Commits the names of the folders created since the last call (their parents' entries).
    func synchronizeNewFolders() throws {
        let parents = NewFolders.take(for: displayPath)
        do {
            for parent in parents { try synchronizeDirectory(parent.split(separator: "/")) }
        } catch {
            NewFolders.restore(parents, for: displayPath)
            throw error
        }
    }

    /// Commits the entries of the folder at `components` (renames into it) to stable storage.
    func synchronizeDirectory(_ components: [Substring]) throws {
        guard case .found(let fd) = try directory(components, create: false), fsync(fd) == 0 else {
            throw FileSyncError.storage("sync the folder of", components.joined(separator: "/"))
        }
    }
}

extension StoredEntry {
    init(status: FileStatus) {
        let type: EntryType
        switch status.kind {
        case .file: type = .file
        case .directory: type = .dir
        case .symbolicLink: type = .symlink
        case .other: type = .other
        }
        self.init(type: type, size: status.size, mtimeNs: status.mtimeNs, mode: status.permissions)
        (uid, gid) = (status.uid, status.gid)
        (special, device) = (status.special, status.special?.isDevice == true ? status.rdev : nil)
    }
}

extension ClientFolder {
    /// Opens the regular file at `path` for reading, without following symlinks; `nil` when there is
    /// none.
    func openForReading(_ path: RelativePath) -> Int32? {
        guard let parent = try? parentDirectory(of: path, create: false) else { return nil }
        return RegularFile.openForReading(String(path.components.last!), in: parent)
    }
}
