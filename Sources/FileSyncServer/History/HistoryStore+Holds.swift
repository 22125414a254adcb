import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension HistoryStore {
    /// Whether the latest snapshot holds the plain folder at `path` exactly as it is now: every
    /// entry below it is listed there with the same kind, and every regular file with the same
    /// identity (size, mtime, inode, ctime). Removing such a folder loses nothing a snapshot cannot
    /// restore. `false` when anything differs or cannot be read (nothing followed on the way).
    func latestSnapshotHolds(folderAt path: RelativePath) -> Bool {
        guard let record = try? latestSnapshot(),
            case .folder(let hash)? = (try? entry(at: path.string, in: record))?.content,
            let tree = try? tree(hash),
            let root = try? HistoryIO.openDirectory(plainTreePath, create: false)
        else { return false }
        var fd = root
        for component in path.components {
            let next = openat(fd, String(component), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(fd)
            guard next >= 0 else { return false }
            fd = next
        }
        defer { close(fd) }
        return holds(fd, as: tree, depth: 0)
    }

    /// Whether the folder open as `fd` is what `tree` lists (see ``latestSnapshotHolds(folderAt:)``).
    private func holds(_ fd: Int32, as tree: TreeObject, depth: Int) -> Bool {
        // A path holds at most 2,048 components (4,096 bytes).
        guard depth < ProtocolLimits.maxPathBytes / 2 else { return false }
        for name in HistoryIO.names(in: fd) {
            guard let info = HistoryIO.status(of: name, in: fd), let old = tree.entry(named: name) else { return false }
            switch info.kind {
            case .file:
                guard let file = old.file,
                    StoredFileIdentity(size: old.size, mtimeNs: old.mtimeNs, inode: file.inode, ctimeNs: file.ctimeNs)
                        .matches(info)
                else { return false }
            case .directory:
                guard case .folder(let hash) = old.content, let subtree = try? self.tree(hash) else { return false }
                let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else { return false }
                defer { close(child) }
                guard holds(child, as: subtree, depth: depth + 1) else { return false }
            case .symbolicLink:
                guard case .symlink = old.content else { return false }
            case .other:
                guard case .special = old.content else { return false }
            }
        }
        return true
    }
}
