import FileSyncCore
import FileSyncSystem
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads back the chunks of files stored without a chunk list (completed by resuming: they came as
/// plain data) and records them in the client's catalog, so that their later changes travel as
/// deltas like those of any file stored in one go (Protocol.md 6.7).
///
/// Runs once the session is over and its connection closed, before the next session may start: no
/// client waits on it, so however long the read takes, no idle timeout is involved. The reading
/// happens on the storage threads (``StorageExecutor``), not on the task pool that serves the other
/// connections. A file
/// changed since its commit is skipped, and cancellation (the server stopping) ends the reading
/// between chunks. The catalog is a hint, so whatever is skipped costs bandwidth later, never
/// correctness.
struct CatalogReadBack: Sendable {
    /// A file as committed: in place since, with this status-change time.
    struct File: Sendable {
        let rename: PendingRename
        let ctimeNs: Int64
    }

    let root: String
    let id: ClientID
    let catalog: ChunkCatalog
    let files: [File]

    /// The server's own, fixed chunking for reading files back. The receiver never recomputes the
    /// sender's boundaries (Protocol.md §5.7) and this is no attempt to: it only fills the catalog,
    /// a hint to find chunks by hash. The sizes equal the v1 client's, so that its chunks of an
    /// unchanged region are found; a client cutting otherwise only finds fewer.
    static let readBackCutter = ChunkCutter(minSize: 64 << 10, averageSize: 128 << 10, maxSize: 512 << 10)

    /// Reads and records every file, unless cancelled. Returns how many were recorded.
    @discardableResult
    func run(logger: Logger) async -> Int {
        let stop = AtomicFlag()
        return await withTaskCancellationHandler {
            (try? await StorageExecutor.shared.run { readAll(until: stop, logger: logger) }) ?? 0
        } onCancel: {
            stop.set()
        }
    }

    // MARK: - Reading

    private enum Outcome {
        case chunks([ChunkEntry])
        case changed
        case unreadable(String)
        case stopped
    }

    private func readAll(until stop: AtomicFlag, logger: Logger) -> Int {
        let started = ContinuousClock.now
        var recorded = 0
        var stopped = false
        let folder: ClientFolder
        do {
            folder = try ClientFolder(root: root, id: id)
        } catch {
            logger.warning("resumed files not cataloged", metadata: ["error": "\(error)"])
            return 0
        }
        for file in files where !stopped {
            switch read(file, in: folder, until: stop) {
            case .chunks(let chunks):
                do {
                    try catalog.record(
                        path: file.rename.path.string, size: file.rename.size, mtimeNs: file.rename.mtimeNs,
                        inode: file.rename.inode, ctimeNs: file.ctimeNs, chunks: chunks)
                    recorded += 1
                } catch {
                    logger.warning(
                        "chunks of a resumed file not cataloged",
                        metadata: ["path": "\(file.rename.path)", "error": "\(error)"])
                }
            case .changed:
                logger.debug(
                    "resumed file changed since it was stored: its chunks are not cataloged",
                    metadata: ["path": "\(file.rename.path)"])
            case .unreadable(let reason):
                logger.warning(
                    "chunks of a resumed file not read back",
                    metadata: ["path": "\(file.rename.path)", "error": "\(reason)"])
            case .stopped:
                stopped = true
            }
        }
        let seconds = String(format: "%.2f", (ContinuousClock.now - started).inSeconds)
        logger.info(
            "resumed files cataloged",
            metadata: [
                "cataloged": "\(recorded)", "files": "\(files.count)", "seconds": "\(seconds)",
                "stoppedWithServer": "\(stopped)",
            ])
        return recorded
    }

    /// The chunks of `file` as stored, provided it is still the file committed: same size, mtime,
    /// inode and status-change time, before and after the read.
    private func read(_ file: File, in folder: ClientFolder, until stop: AtomicFlag) -> Outcome {
        if stop.isSet { return .stopped }
        let walk: ClientFolder.Walk
        do {
            walk = try folder.directory(file.rename.parentComponents, create: false)
        } catch {
            return .unreadable("\(error)")
        }
        guard case .found(let parent) = walk else { return .changed }
        let fd = openat(
            parent, String(file.rename.path.lastComponent), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return errno == ENOENT || errno == ELOOP ? .changed : .unreadable(Self.lastError) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .unreadable(Self.lastError) }
        guard isCommitted(file, info) else { return .changed }
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        var reader = ChunkReader(fd: fd, cutter: Self.readBackCutter)
        var chunks: [ChunkEntry] = []
        do {
            while let chunk = try reader.next() {
                if stop.isSet { return .stopped }
                chunks.append(chunk.entry)
            }
        } catch {
            return .unreadable("\(error)")
        }
        guard fstat(fd, &info) == 0 else { return .unreadable(Self.lastError) }
        guard isCommitted(file, info), reader.offset == file.rename.size else { return .changed }
        return .chunks(chunks)
    }

    private static var lastError: String { FileSyncError.errnoText(errno) }

    private func isCommitted(_ file: File, _ info: stat) -> Bool {
        StoredFileIdentity(
            size: file.rename.size, mtimeNs: file.rename.mtimeNs, inode: file.rename.inode, ctimeNs: file.ctimeNs
        ).matches(info)
    }
}
