import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ClientFolder {
    /// Makes the path of the hard link `entry` another name of the regular file at its target
    /// (Protocol.md §6.11): nothing when it already is; otherwise a link made under a temporary
    /// name (`.filesync-link-…`, `linkat` without following anything) is renamed over the path, a
    /// regular file there being handed to `replacing` first (to preserve it). Both ways are walked
    /// without following a symlink. Returns whether the path changed.
    ///
    /// - Throws: `typeConflict` when the target is not a regular file or a folder is in the way;
    ///   `storageFailed` else.
    func makeHardLink(_ entry: ManifestEntry, replacing: (String) throws -> Void) throws -> Bool {
        let path = try RelativePath(validating: entry.path)
        let target = try RelativePath(validating: entry.target ?? "")
        // The folder cache serves one descriptor at a time: keep a copy of the target's.
        guard let cached = try parentDirectory(of: target, create: false) else {
            throw FileSyncError(.typeConflict, "the target of the hard link \"\(path)\" is not stored")
        }
        let targetParent = dup(cached)
        guard targetParent >= 0 else { throw FileSyncError.storage("duplicate a descriptor of", target.string) }
        defer { close(targetParent) }
        let targetName = String(target.lastComponent)
        guard let file = FileStatus.of(targetName, in: targetParent), file.kind == .file else {
            throw FileSyncError(.typeConflict, "the target of the hard link \"\(path)\" is not a stored regular file")
        }
        guard let parent = try parentDirectory(of: path, create: true) else {
            throw FileSyncError.storage("create the folder of", path.string, errno: ENOENT)
        }
        let name = String(path.lastComponent)
        if let held = FileStatus.of(name, in: parent) {
            if held.inode == file.inode && held.device == file.device { return false }
            guard held.kind != .directory else {
                throw FileSyncError(.typeConflict, "a folder is in the way of the hard link \"\(path)\"")
            }
            if held.kind == .file { try replacing(path.string) }
        }
        var generator = SystemRandomNumberGenerator()
        let temporary = ".filesync-link-" + String(generator.next() as UInt64, radix: 16)
        guard linkat(targetParent, targetName, parent, temporary, 0) == 0 else {
            throw FileSyncError.storage("link", path.string)
        }
        guard renameat(parent, temporary, parent, name) == 0 else {
            let failure = FileSyncError.storage("link", path.string)
            unlinkat(parent, temporary, 0)
            throw failure
        }
        return true
    }
}
