import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ClientFolder {
    /// The entries held in the client folder that `include` accepts (given each path and whether
    /// it is a folder), as relative paths, without following symlinks (partial files live outside
    /// it). Every folder is walked; only the paths accepted are kept, so listing what a manifest
    /// lacks costs memory for those alone.
    func storedPaths(where include: (String, Bool) -> Bool = { _, _ in true }) throws -> [String] {
        var paths: [String] = []
        try collect(into: &paths, where: include, directory: dup(descriptor), prefix: "")
        return paths
    }

    private func collect(
        into paths: inout [String], where include: (String, Bool) -> Bool, directory fd: Int32, prefix: String
    ) throws {
        guard let stream = fdopendir(fd) else {
            close(fd)
            throw FileSyncError.storage("list", prefix.isEmpty ? displayPath : prefix)
        }
        defer { closedir(stream) }
        for entry in DirectoryEntries(stream) {
            // As listed before: a name that is not UTF-8 is shown repaired (it cannot be in a manifest).
            let name = entry.displayName
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            var info = stat()
            let known = fstatat(dirfd(stream), name, &info, AT_SYMLINK_NOFOLLOW) == 0
            let isFolder = known && info.st_mode & S_IFMT == S_IFDIR
            if include(relative, isFolder) { paths.append(relative) }
            if isFolder {
                let child = openat(dirfd(stream), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if child >= 0 { try collect(into: &paths, where: include, directory: child, prefix: relative) }
            }
        }
    }

    /// Removes the entry at `path` (a file, symlink, or an empty folder); a folder that still holds
    /// something is left in place. Returns whether something was removed.
    @discardableResult
    func remove(_ path: RelativePath) throws -> Bool {
        guard let parent = try parentDirectory(of: path, create: false) else { return false }
        let name = String(path.components.last!)
        var info = stat()
        guard fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
        let isDirectory = info.st_mode & S_IFMT == S_IFDIR
        if isDirectory { forgetCachedDirectory(at: path.components) }
        if unlinkat(parent, name, isDirectory ? AT_REMOVEDIR : 0) == 0 { return true }
        if isDirectory && (errno == ENOTEMPTY || errno == EEXIST) { return false }
        throw FileSyncError.storage("delete", path.string)
    }
}
