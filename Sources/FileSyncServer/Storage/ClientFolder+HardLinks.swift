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
    /// `check` says what the session knows of the target (``HardLinkTargets/Check``): no link is
    /// made to a target the tasks asked for and the session did not store, and a regular file of
    /// the target's size and mtime is replaced only when it holds the target's content.
    ///
    /// - Throws: `typeConflict` when the target is not a regular file or not stored, or a folder is
    ///   in the way; ``HardLinkAmbiguity`` when the file the link would replace has the target's size
    ///   and mtime but another content; `storageFailed` else.
    ///
    /// With `linking` false, only the checks are made (the caller looks for ambiguous targets
    /// first, so that no name of a suspect target is linked to it).
    func makeHardLink(
        _ entry: ManifestEntry, check: HardLinkTargets.Check = .stored, linking: Bool = true,
        replacing: (String) throws -> Void
    ) throws -> Bool {
        let path = try RelativePath(validating: entry.path)
        let target = try RelativePath(validating: entry.target ?? "")
        guard check != .notStored else {
            throw FileSyncError(.typeConflict, "the target of the hard link \"\(path)\" was not stored in this session")
        }
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
            if held.kind == .file, check == .compareReplaced, held.size == file.size, held.mtimeNs == file.mtimeNs,
                !Self.sameContent(name, in: parent, as: targetName, in: targetParent, size: file.size)
            {
                throw HardLinkAmbiguity(path: path.string, target: target.string)
            }
            guard linking else { return false }
            if held.kind == .file { try replacing(path.string) }
        }
        guard linking else { return false }
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

    /// The largest file compared byte by byte before a link replaces it.
    static let comparedBytesLimit: Int64 = 256 << 20

    /// Whether the regular files `name` in `folder` and `otherName` in `otherFolder`, both of
    /// `size` bytes, hold the same bytes (opened without following anything; `false` when either
    /// cannot be read).
    private static func sameContent(
        _ name: String, in folder: Int32, as otherName: String, in otherFolder: Int32, size: Int64
    ) -> Bool {
        // Reading two large files whole could outlast the client's idle timeout: past this size the
        // files count as different, and the target is asked for again (a delta, cheap when equal).
        guard size <= Self.comparedBytesLimit else { return false }
        let flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK
        let (one, other) = (openat(folder, name, flags), openat(otherFolder, otherName, flags))
        defer {
            if one >= 0 { close(one) }
            if other >= 0 { close(other) }
        }
        guard one >= 0, other >= 0 else { return false }
        let block = 1 << 20
        let buffers = (
            UnsafeMutableRawBufferPointer.allocate(byteCount: block, alignment: 16),
            UnsafeMutableRawBufferPointer.allocate(byteCount: block, alignment: 16)
        )
        defer {
            buffers.0.deallocate()
            buffers.1.deallocate()
        }
        var offset: Int64 = 0
        while offset < size {
            let count = Int(min(Int64(block), size - offset))
            let (left, right) = (
                UnsafeMutableRawBufferPointer(rebasing: buffers.0[..<count]),
                UnsafeMutableRawBufferPointer(rebasing: buffers.1[..<count])
            )
            guard readFully(one, into: left, at: offset), readFully(other, into: right, at: offset),
                memcmp(left.baseAddress!, right.baseAddress!, count) == 0
            else { return false }
            offset += Int64(count)
        }
        return true
    }
}
