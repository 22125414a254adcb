import CFileSyncShims
import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension IncomingFile {
    /// Stores the verified content of a file frame: written, given its mode and mtime, and left
    /// unnamed (`O_TMPFILE`) in its destination folder when `unnamed` allows and the filesystem
    /// supports it, or else in its partial; either way it is only named at the next commit.
    ///
    /// An unnamed file costs no directory entry until it is linked into place, and its inode is
    /// allocated near its folder rather than in the one partial folder shared by every file.
    ///
    /// - Parameter sha256: the content's SHA-256, which the caller checked.
    static func store(
        _ content: UnsafeRawBufferPointer, sha256: ChunkHash, header: FileHeader, path: RelativePath,
        store: PartialStore, folder: ClientFolder, unnamed: Bool, pool: UnnamedFilePool? = nil
    ) throws -> PendingRename {
        let parentComponents = path.parentComponents
        let parent: Int32
        switch try folder.directory(parentComponents, create: true) {
        case .found(let fd): parent = fd
        case .missing: throw FileSyncError.storage("create the folder of", path.string, errno: ENOENT)
        case .blocked(let reason): throw FileSyncError(.typeConflict, reason)
        }
        var fd: Int32 = -1
        var named = false
        // A named partial's inode, by which its status is found once renamed into place.
        var inode: UInt64 = 0
        var mode: UInt32?
        if unnamed && store.supportsUnnamedFiles {
            if let file = pool?.take(forFolderOn: folder.device(ofDirectory: parent)) {
                (fd, mode) = (file.fd, file.mode)
            } else {
                fd = filesync_open_unnamed(parent)
            }
        }
        if fd < 0 {
            fd = try store.open(for: header, offset: 0).fd
            named = true
        }
        do {
            guard writeFully(fd, content) else { throw FileSyncError.storage("write", path.string) }
            try applyModeAndTime(of: header, to: fd, path: path, currentMode: mode)
            if named {
                inode = FileStatus.of(descriptor: fd)?.inode ?? 0
                let closed = close(fd)
                fd = -1
                guard closed == 0 else { throw FileSyncError.storage("close", path.string) }
            }
        } catch {
            if fd >= 0 { close(fd) }
            if named {
                store.remove(named: PartialStore.name(for: header.path, size: header.size, mtimeNs: header.mtimeNs))
            }
            throw error
        }
        return PendingRename(
            path: path, parentComponents: parentComponents, size: header.size, mtimeNs: header.mtimeNs, inode: inode,
            chunks: nil, descriptor: named ? nil : fd, sha256: sha256)
    }
}
