import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What tells the server that a stored file is still the version it recorded (committed, cataloged,
/// journaled or taken into a snapshot): a regular file with the same size, mtime and inode, and,
/// when it was recorded, the same status-change time. Nobody can set a ctime back, so with it a file
/// changed and restored to the same size and mtime is still seen as changed (Protocol.md §6.7). The
/// one definition of "unchanged" on the server.
struct StoredFileIdentity: Equatable, Sendable {
    var size: Int64
    /// `nil` when the record has none (a snapshot's file content keeps inode and ctime only): then
    /// the ctime, which every write changes, speaks for it.
    var mtimeNs: Int64?
    var inode: UInt64
    /// `nil` when the record has none (a chunk location): then size, mtime and inode decide. 0 is
    /// what an older catalog recorded when it knew no ctime: it matches no file.
    var ctimeNs: Int64?

    init(size: Int64, mtimeNs: Int64?, inode: UInt64, ctimeNs: Int64?) {
        self.size = size
        self.mtimeNs = mtimeNs
        self.inode = inode
        self.ctimeNs = ctimeNs
    }

    /// Whether the file described by `info` (from `fstat`) is this one, unchanged.
    func matches(_ info: stat) -> Bool {
        matches(FileStatus(info))
    }

    /// Whether the file of `status` is this one, unchanged.
    func matches(_ status: FileStatus) -> Bool {
        guard status.kind == .file, status.size == size, status.inode == inode else { return false }
        if let mtimeNs, status.mtimeNs != mtimeNs { return false }
        guard let ctimeNs else { return true }
        return ctimeNs != 0 && status.ctimeNs == ctimeNs
    }

    /// Whether the open file `fd` is this one, unchanged.
    func matches(descriptor fd: Int32) -> Bool {
        FileStatus.of(descriptor: fd).map(matches) ?? false
    }
}
