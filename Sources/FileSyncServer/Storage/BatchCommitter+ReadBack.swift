import FileSyncCore
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

extension BatchCommitter {
    /// A file committed in place whose chunks the catalog does not know yet.
    struct StoredFile: Sendable {
        let path: RelativePath
        let parentComponents: [Substring]
        let size: Int64
        let mtimeNs: Int64
        let inode: UInt64
    }

    /// Reads back the chunks of the resumed files committed this session and records them in the
    /// catalog, so that their later changes travel as deltas (Protocol.md 6.7).
    ///
    /// Runs once the session is over and its connection closed, before the next session may start:
    /// no client waits on it, and however long the read takes, no idle timeout is involved. A file
    /// changed or replaced since its commit is skipped; cancellation (the server stopping) ends the
    /// reading between chunks. The catalog is a hint, so whatever is skipped costs bandwidth later,
    /// never correctness.
    ///
    /// - Returns: the number of files recorded.
    @discardableResult
    func catalogResumedFiles(logger: Logger) -> Int {
        guard let catalog, !resumedFiles.isEmpty else { return 0 }
        let started = ContinuousClock.now
        var recorded = 0
        for file in resumedFiles {
            if Task.isCancelled { break }
            guard let (chunks, ctimeNs) = readChunks(of: file) else {
                logger.debug("\(file.path) changed since it was stored: its chunks are not cataloged")
                continue
            }
            do {
                try catalog.record(
                    path: file.path.string, size: file.size, mtimeNs: file.mtimeNs, inode: file.inode,
                    ctimeNs: ctimeNs, chunks: chunks)
                recorded += 1
            } catch {
                logger.warning("\(file.path): its chunks could not be cataloged: \(error)")
            }
        }
        logger.info(
            "cataloged \(recorded) of \(resumedFiles.count) resumed file(s) in \(String(format: "%.2f", (ContinuousClock.now - started).inSeconds)) s"
        )
        return recorded
    }

    /// The chunks of `file` as stored, and its status-change time, or `nil` if it cannot be read or
    /// is no longer the file committed (size, mtime or inode differ, or it changed while read).
    private func readChunks(of file: StoredFile) -> (chunks: [ChunkEntry], ctimeNs: Int64)? {
        guard case .found(let parent) = try? folder.directory(file.parentComponents, create: false) else { return nil }
        let fd = openat(parent, String(file.path.lastComponent), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var before = stat()
        guard fstat(fd, &before) == 0, Self.isCommitted(file, before) else { return nil }
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        var reader = ChunkReader(fd: fd)
        var chunks: [ChunkEntry] = []
        do {
            while let chunk = try reader.next() {
                if Task.isCancelled { return nil }
                chunks.append(chunk.entry)
            }
        } catch {
            return nil
        }
        var after = stat()
        guard fstat(fd, &after) == 0, Self.isCommitted(file, after),
            after.st_ctim.tv_sec == before.st_ctim.tv_sec, after.st_ctim.tv_nsec == before.st_ctim.tv_nsec,
            reader.offset == file.size
        else { return nil }
        return (chunks, epochNanoseconds(seconds: after.st_ctim.tv_sec, nanoseconds: after.st_ctim.tv_nsec))
    }

    private static func isCommitted(_ file: StoredFile, _ info: stat) -> Bool {
        info.st_mode & S_IFMT == S_IFREG && Int64(info.st_size) == file.size
            && epochNanoseconds(seconds: info.st_mtim.tv_sec, nanoseconds: info.st_mtim.tv_nsec) == file.mtimeNs
            && UInt64(info.st_ino) == file.inode
    }
}
