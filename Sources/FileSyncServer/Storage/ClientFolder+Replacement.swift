import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ClientFolder {
    /// Removes the entry at `path`: a file or symlink (the link itself), or a folder and everything
    /// below it, deepest first. No symlink is followed: folders are opened with `O_NOFOLLOW` from
    /// their parent's descriptor. `removing` is called with the relative path of each regular file
    /// before it goes (to preserve it); if it throws, nothing more is removed.
    func removeTree(_ path: RelativePath, removing: (String) throws -> Void) throws {
        guard let parent = try parentDirectory(of: path, create: false) else { return }
        let name = String(path.lastComponent)
        guard let status = FileStatus.of(name, in: parent) else { return }
        if status.kind == .directory {
            forgetCachedDirectory(at: path.components)
            // The parent's descriptor belongs to the cache, which the walk below may replace.
            let parentCopy = dup(parent)
            guard parentCopy >= 0 else { throw FileSyncError.storage("duplicate a descriptor of", path.string) }
            defer { close(parentCopy) }
            let child = openat(parentCopy, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else { throw FileSyncError.storage("open folder", path.string) }
            defer { close(child) }
            try removeContents(of: child, prefix: path.string, removing: removing)
            guard unlinkat(parentCopy, name, AT_REMOVEDIR) == 0 else {
                throw FileSyncError.storage("delete", path.string)
            }
            return
        }
        if status.kind == .file { try removing(path.string) }
        guard unlinkat(parent, name, 0) == 0 else { throw FileSyncError.storage("delete", path.string) }
    }

    private func removeContents(of fd: Int32, prefix: String, removing: (String) throws -> Void) throws {
        for name in DirectoryEntries.names(inDescriptor: fd) {
            let relative = prefix + "/" + name
            guard let status = FileStatus.of(name, in: fd) else { continue }
            if status.kind == .directory {
                let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else { throw FileSyncError.storage("open folder", relative) }
                defer { close(child) }
                try removeContents(of: child, prefix: relative, removing: removing)
                guard unlinkat(fd, name, AT_REMOVEDIR) == 0 else { throw FileSyncError.storage("delete", relative) }
            } else {
                if status.kind == .file { try removing(relative) }
                guard unlinkat(fd, name, 0) == 0 else { throw FileSyncError.storage("delete", relative) }
            }
        }
    }

    /// Makes the symlink `entry` (its target and mtime) at its path, creating missing parent
    /// folders, replacing a file or symlink there; never following a symlink on the way.
    ///
    /// - Throws: `typeConflict` when a symlink, file or folder is in the way; `storageFailed` else.
    func makeSymlink(_ entry: ManifestEntry) throws {
        let path = try RelativePath(validating: entry.path)
        guard let parent = try parentDirectory(of: path, create: true) else {
            throw FileSyncError.storage("create the folder of", path.string, errno: ENOENT)
        }
        let code = Symlink.make(
            String(path.lastComponent), in: parent, target: entry.target ?? "", mtimeNs: entry.mtimeNs)
        guard code == 0 else {
            if code == EISDIR || code == ENOTEMPTY || code == EEXIST {
                throw FileSyncError(.typeConflict, "a folder is in the way of the symlink \"\(path.string)\"")
            }
            throw FileSyncError.storage("create the symlink", path.string, errno: code)
        }
    }

    /// Makes the FIFO, socket or device `entry` (kind, device number, mode, mtime) at its path, never
    /// opened, creating missing parent folders, replacing a file, symlink or node there, never
    /// following a symlink on the way.
    ///
    /// A device needs the privilege to make one (a server run as root). Without it (`EPERM`), the
    /// symlink or node that stood at the path is removed, so that the stored tree holds nothing
    /// stale there, and `false` is returned: the device can then only be recorded in snapshots
    /// (Protocol.md §6.10).
    ///
    /// - Returns: `true` when the node was made.
    /// - Throws: `typeConflict` when a folder is in the way; `storageFailed` else.
    @discardableResult
    func makeSpecial(_ entry: ManifestEntry) throws -> Bool {
        let path = try RelativePath(validating: entry.path)
        guard let kind = entry.special else { throw FileSyncError(.internalError, "\(path) is no special file") }
        guard let parent = try parentDirectory(of: path, create: true) else {
            throw FileSyncError.storage("create the folder of", path.string, errno: ENOENT)
        }
        let failure = SpecialFile.make(
            String(path.lastComponent), in: parent, kind: kind, device: entry.device ?? 0, mode: entry.mode,
            mtimeNs: entry.mtimeNs)
        if let failure {
            let code = failure.code
            if code == EISDIR || code == ENOTEMPTY || code == EEXIST {
                throw FileSyncError(.typeConflict, "a folder is in the way of \"\(path.string)\"")
            }
            if kind.isDevice && code == EPERM && failure.making {
                try removeNode(named: String(path.lastComponent), in: parent, path: path)
                return false
            }
            throw FileSyncError.storage("create the \(kind)", path.string, errno: code)
        }
        return true
    }

    /// Removes the symlink, FIFO, socket or device named `name` in `parent`, if one is there.
    ///
    /// - Throws: `typeConflict` for a folder, as ``makeSpecial(_:)`` does; `storageFailed` for a
    ///   regular file, which a type change removes (preserved) before this runs (§6.6).
    private func removeNode(named name: String, in parent: Int32, path: RelativePath) throws {
        guard let status = FileStatus.of(name, in: parent) else { return }
        switch status.kind {
        case .directory: throw FileSyncError(.typeConflict, "a folder is in the way of \"\(path.string)\"")
        case .file: throw FileSyncError.storage("replace the file", path.string, errno: EEXIST)
        case .symbolicLink, .other:
            guard unlinkat(parent, name, 0) == 0 || errno == ENOENT else {
                throw FileSyncError.storage("delete", path.string)
            }
        }
    }

    /// Gives each folder of `folders` its manifest mtime (atime too, as files get), in the order
    /// given (manifest order keeps siblings together, so their parent stays the cached folder;
    /// setting one folder's time changes no other's), without following anything (a path that is
    /// no longer a folder is skipped). Returns the paths that could not be set.
    func setTimes(ofFolders folders: [ManifestEntry]) -> [String] {
        var failed: [String] = []
        for folder in folders {
            guard let path = try? RelativePath(validating: folder.path),
                let parent = try? parentDirectory(of: path, create: false)
            else { continue }
            let name = String(path.lastComponent)
            guard let status = FileStatus.of(name, in: parent), status.kind == .directory else { continue }
            guard status.mtimeNs != folder.mtimeNs else { continue }
            var times = [
                timespec(nanosecondsSinceEpoch: folder.mtimeNs), timespec(nanosecondsSinceEpoch: folder.mtimeNs),
            ]
            if utimensat(parent, name, &times, AT_SYMLINK_NOFOLLOW) != 0 { failed.append(folder.path) }
        }
        return failed
    }

    /// Applies the whole mode of each entry (`mode & 0o7777`, setuid, setgid and sticky included;
    /// folders stay writable for the server) to the file or folder at its path, opened without
    /// following a symlink; anything else there is skipped. Returns the paths that failed.
    func setSpecialModes(_ entries: [ManifestEntry]) -> [String] {
        var failed: [String] = []
        for entry in entries {
            guard let path = try? RelativePath(validating: entry.path),
                let parent = try? parentDirectory(of: path, create: false)
            else { continue }
            let fd = openat(parent, String(path.lastComponent), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            guard let status = FileStatus.of(descriptor: fd), status.kind == .file || status.kind == .directory else {
                continue
            }
            let mode = status.kind == .directory ? (entry.mode & 0o7777) | 0o700 : entry.mode & 0o7777
            if status.permissions != mode && fchmod(fd, mode_t(mode)) != 0 { failed.append(entry.path) }
        }
        return failed
    }

    /// Gives each entry the numeric owner (uid, gid) of the manifest, the link itself for a symlink
    /// (`fchownat` with `AT_SYMLINK_NOFOLLOW`, relative to its parent's descriptor). Returns the
    /// paths that failed.
    func setOwners(_ owners: PlannedOwners) -> [String] {
        var failed: [String] = []
        for owner in owners {
            guard let path = try? RelativePath(validating: owner.path),
                let parent = try? parentDirectory(of: path, create: false)
            else { continue }
            if fchownat(parent, String(path.lastComponent), owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) != 0
                && errno != ENOENT
            {
                failed.append(owner.path)
            }
        }
        return failed
    }
}
