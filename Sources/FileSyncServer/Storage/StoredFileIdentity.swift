import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What tells the server that a stored file is still the version it recorded (committed, cataloged
/// or journaled): a regular file with the same size, mtime and inode, and, when it was recorded,
/// the same status-change time. Nobody can set a ctime back, so with it a file changed and restored
/// to the same size and mtime is still seen as changed (Protocol.md §6.7). The one definition of
/// "unchanged" on the server.
struct StoredFileIdentity: Equatable, Sendable {
    var size: Int64
    var mtimeNs: Int64
    var inode: UInt64
    /// `nil` when the record has none (a chunk location): then size, mtime and inode decide. 0 is
    /// what an older catalog recorded when it knew no ctime: it matches no file.
    var ctimeNs: Int64?

    init(size: Int64, mtimeNs: Int64, inode: UInt64, ctimeNs: Int64?) {
        self.size = size
        self.mtimeNs = mtimeNs
        self.inode = inode
        self.ctimeNs = ctimeNs
    }

    /// Whether the file described by `info` (from `fstat`) is this one, unchanged.
    func matches(_ info: stat) -> Bool {
        guard info.st_mode & S_IFMT == S_IFREG, Int64(info.st_size) == size, UInt64(info.st_ino) == inode,
            epochNanoseconds(seconds: info.st_mtim.tv_sec, nanoseconds: info.st_mtim.tv_nsec) == mtimeNs
        else { return false }
        guard let ctimeNs else { return true }
        return ctimeNs != 0
            && epochNanoseconds(seconds: info.st_ctim.tv_sec, nanoseconds: info.st_ctim.tv_nsec) == ctimeNs
    }

    /// Whether the open file `fd` is this one, unchanged.
    func matches(descriptor fd: Int32) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && matches(info)
    }
}
