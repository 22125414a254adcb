import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Keeps the content of plain files that snapshots need before the server changes them: the reverse
/// deltas of the history.
///
/// The session calls it BEFORE it renames a new version over a plain file, patches one in place or
/// deletes one. It reads the current file, cuts it (``HistoryChunking``) and appends to a new pack
/// every chunk that no pack holds yet and that the new version will not hold (`newChunks`: those
/// stay readable from the plain file, where ``ContentResolver`` finds them by cutting it). When it
/// returns, the pack is synced, named and indexed: the old content survives any crash that follows.
/// A file changed in one place therefore adds only its changed chunks.
///
/// `newChunks` must be the new version's chunks **as ``HistoryChunking`` cuts it** (a chunk named
/// there but absent from that cut would be lost once the old file is gone): for a new version
/// shorter than ``HistoryChunking/singleChunkLimit``, its SHA-256 alone; for a longer one, the
/// delta transfer's chunk list while ``HistoryChunking/cutsLikeClients``, else its own cut. An empty
/// set is always safe (it only packs more).
struct Preserver {
    let store: HistoryStore
    /// A pack is closed once it holds this many bytes (and a new one started), so that repacking or
    /// moving one stays cheap.
    var maxPackSize: Int64 = 64 << 20

    /// One file to preserve.
    struct Request: Sendable {
        /// Relative to the client's plain tree.
        var relativePath: String
        /// The chunks of the version that will replace it (empty for a deletion).
        var newChunks: Set<ChunkHash>

        init(relativePath: String, keeping newChunks: Set<ChunkHash> = []) {
            self.relativePath = relativePath
            self.newChunks = newChunks
        }
    }

    /// What was packed.
    struct Outcome: Sendable, Equatable {
        var chunks = 0
        /// Chunk bytes appended to packs (without footers).
        var bytes: Int64 = 0
        var packs: [String] = []
    }

    /// Preserves one file; nothing happens when no regular file is at the path.
    @discardableResult
    func preserve(relativePath: String, keeping newChunks: Set<ChunkHash>) throws -> Outcome {
        try preserve([Request(relativePath: relativePath, keeping: newChunks)])
    }

    /// Preserves many files into as few packs as ``maxPackSize`` allows, one file's chunks at a
    /// time (memory: one read buffer and the pack's footer, whatever the files' sizes).
    @discardableResult
    func preserve(_ requests: [Request]) throws -> Outcome {
        let directory = try HistoryIO.openDirectory(store.packsPath, create: false)
        defer { close(directory) }
        var outcome = Outcome()
        var writer: PackWriter?
        for request in requests {
            guard let fd = store.openPlainFile(request.relativePath) else { continue }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw FileSyncError.storage("stat", request.relativePath) }
            _ = try HistoryChunking.cut(fd, size: Int64(info.st_size)) { _, entry, bytes in
                guard !request.newChunks.contains(entry.hash), writer?.contains(entry.hash) != true,
                    try store.index.location(of: entry.hash) == nil
                else { return }
                if writer == nil { writer = try PackWriter(directory: directory, display: store.packsPath) }
                try writer!.append(entry.hash, bytes)
                outcome.chunks += 1
                outcome.bytes += Int64(entry.length)
                if writer!.byteCount >= maxPackSize {
                    try finish(writer!, into: &outcome)
                    writer = nil
                }
            }
        }
        if let writer { try finish(writer, into: &outcome) }
        return outcome
    }

    private func finish(_ writer: PackWriter, into outcome: inout Outcome) throws {
        let size = writer.byteCount
        guard let pack = try writer.finish() else { return }
        try store.index.add(
            pack: pack.name, size: size + Int64(pack.entries.count * PackWriter.recordSize + PackWriter.trailerSize),
            entries: pack.entries)
        outcome.packs.append(pack.name)
    }
}
