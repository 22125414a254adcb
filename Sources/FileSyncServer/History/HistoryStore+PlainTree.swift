import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension HistoryStore {
    /// Opens the regular file at `relativePath` in the plain tree for reading, one component at a time
    /// with `O_NOFOLLOW`: a symlink anywhere on the way, or at the end, gives `nil`, as does a path
    /// with `.`/`..`/empty components or nothing there.
    func openPlainFile(_ relativePath: String) -> Int32? {
        let components = relativePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !components.isEmpty, components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            return nil
        }
        var current = open(plainTreePath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard current >= 0 else { return nil }
        for component in components.dropLast() {
            let next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(current)
            guard next >= 0 else { return nil }
            current = next
        }
        defer { close(current) }
        return RegularFile.openForReading(components.last!, in: current)
    }

    /// Disk usage of the history folder, in bytes (allocated blocks), and its file count.
    func diskUsage() -> (bytes: Int64, files: Int) {
        var bytes: Int64 = 0
        var files = 0
        func walk(_ fd: Int32) {
            for name in HistoryIO.names(in: fd) {
                guard let info = HistoryIO.status(of: name, in: fd) else { continue }
                if info.kind == .directory {
                    let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    guard child >= 0 else { continue }
                    walk(child)
                    close(child)
                } else {
                    bytes += info.allocatedBytes
                    files += 1
                }
            }
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return (0, 0) }
        walk(fd)
        close(fd)
        return (bytes, files)
    }
}

extension HistoryStore {
    /// The client's chunk catalog if it has one, for reading (never created here: a client without
    /// large files has none, and a snapshot adds nothing to its disk use).
    func existingCatalog() -> ChunkCatalog? {
        guard access(statePath + "/catalog.sqlite", F_OK) == 0 else { return nil }
        return try? ChunkCatalog(readingFrom: statePath)
    }
}
