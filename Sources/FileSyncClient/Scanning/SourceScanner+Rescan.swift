import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SourceScanner {
    /// A partial rescan (``RescanMerge``): lists only the folders `changes` names (and walks those
    /// that appeared), reusing `previous`, this source's last scan (links not resolved), for the
    /// rest. Returns the scan (links not resolved), the folders listed, and the folders there are.
    ///
    /// - Throws: ``RescanMerge/Fallback`` when the changes do not fit the previous scan (a full
    ///   scan is then needed), or what opening the source throws.
    func rescan(previous: Result, changes: FolderChanges) throws -> (result: Result, listed: Int, folders: Int) {
        let root = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else {
            throw FileSyncError(.invalidSetting, "cannot open the source folder \"\(source)\"", errno: errno)
        }
        defer { close(root) }
        var scanner = self
        var info = stat()
        if exclusion.oneFileSystem && fstat(root, &info) == 0 { scanner.exclusion.sourceDevice = UInt64(info.st_dev) }
        var merge = RescanMerge(previous: previous, changes: changes, parentsToo: exclusion.excludeCaches)
        let result = try merge.merge(
            rootRules: exclusion.rootMatcher,
            list: { folder, rules in scanner.list(folder, in: root, parentRules: rules) },
            walk: { folder, rules in try scanner.walkTree(folder, in: root, parentRules: rules) })
        return (
            result, merge.listedCount, 1 + result.entries.indices.count(where: { result.entries.type(at: $0) == .dir })
        )
    }

    /// The entries of `folder` (folders among them not entered), or `nil` when it is no longer a
    /// folder.
    private func list(_ folder: String, in root: Int32, parentRules: IgnoreMatcher) -> RescanMerge.Listing? {
        guard let fd = Self.openFolder(folder, in: root) else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            return nil
        }
        var result = Result()
        var subtrees: [Subtree]? = []
        var lister = self
        lister.listingOnly = true
        lister.walk(fd, prefix: folder, matcher: parentRules, into: &result, deferring: &subtrees)
        let entry = ManifestEntry(
            path: folder, type: .dir, size: 0, mtimeNs: info.mtimeNs, mode: UInt32(info.st_mode & 0o7777),
            uid: info.st_uid, gid: info.st_gid)
        return RescanMerge.Listing(folder: entry, result: result, entered: Set((subtrees ?? []).map(\.prefix)))
    }

    /// Every entry below `folder`.
    private func walkTree(_ folder: String, in root: Int32, parentRules: IgnoreMatcher) throws -> Result {
        guard let fd = Self.openFolder(folder, in: root) else {
            throw RescanMerge.Fallback(reason: "cannot open \(folder): \(FileSyncError.errnoText(errno))")
        }
        var result = Result()
        var none: [Subtree]? = nil
        walk(fd, prefix: folder, matcher: parentRules, into: &result, deferring: &none)
        return result
    }

    /// Opens the folder at `path` below the source open as `root`, one component at a time and
    /// following no symlink, so that a folder replaced by a link does not lead out of the source.
    private static func openFolder(_ path: String, in root: Int32) -> Int32? {
        var fd = openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        for component in path.split(separator: "/") where fd >= 0 {
            let next = openat(fd, String(component), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(fd)
            fd = next
        }
        return fd >= 0 ? fd : nil
    }
}
