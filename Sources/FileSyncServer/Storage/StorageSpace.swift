import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whether a file fits on the filesystem before any of it is accepted (Protocol.md §6.4: a file
/// that cannot fit fails alone, `storageFailed`).
enum StorageSpace {
    /// Throws `storageFailed` unless `bytes` fit in the space free to unprivileged users of the
    /// filesystem holding `descriptor`. When the space cannot be read, the write itself will tell.
    static func check(_ bytes: Int64, for path: String, on descriptor: Int32) throws {
        var info = statvfs()
        guard fstatvfs(descriptor, &info) == 0 else { return }
        let free = Int64(info.f_bavail) * Int64(info.f_frsize)
        guard bytes <= free else {
            throw FileSyncError(
                .storageFailed, "not enough space on the server for \"\(path)\" (\(bytes) bytes needed, \(free) free)")
        }
    }
}
