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
/// deletes one. It reads the current file, cuts it (``HistoryChunking``; a large file still as the
/// latest snapshot took it is not cut: its recorded chunk list says where each chunk is, and only
/// the chunks to pack are read and checked) and appends to a new pack
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
        var packing = Packing(store: store, directory: directory, maxPackSize: maxPackSize)
        // Read once: a large file still as the latest snapshot took it needs no cut (below).
        let latest = try store.latestSnapshot()
        for request in requests {
            guard let fd = store.openPlainFile(request.relativePath) else { continue }
            defer { close(fd) }
            guard let status = FileStatus.of(descriptor: fd) else {
                throw FileSyncError.storage("stat", request.relativePath)
            }
            if let recorded = recordedChunks(of: request.relativePath, status: status, in: latest),
                try packRecorded(recorded, of: fd, request: request, into: &packing)
            {
                continue
            }
            _ = try HistoryChunking.cut(fd, size: status.size) { _, entry, bytes in
                try packing.keep(entry, bytes, unless: request.newChunks)
            }
        }
        return try packing.finish()
    }

    /// The chunk list `latest` recorded for the large file at `path`, if the file is still the one
    /// it took (same size, inode and ctime): that list is this file as ``HistoryChunking`` cuts it,
    /// so a change of a few bytes in a large file costs reading its changed chunks only, not a cut
    /// and a hash of the whole file while the client waits.
    private func recordedChunks(of path: String, status: FileStatus, in latest: SnapshotRecord?) -> [ChunkEntry]? {
        guard let latest, status.size >= Int64(HistoryChunking.singleChunkLimit),
            let entry = try? store.entry(at: path, in: latest), let file = entry.file,
            StoredFileIdentity(size: entry.size, mtimeNs: nil, inode: file.inode, ctimeNs: file.ctimeNs)
                .matches(status)
        else { return nil }
        return file.chunks
    }

    /// Packs the recorded chunks that need it, each read and checked against its hash. Returns
    /// `false` if one does not match (the file is then cut as usual; what was packed stays, and is
    /// not packed twice).
    private func packRecorded(
        _ chunks: [ChunkEntry], of fd: Int32, request: Request, into packing: inout Packing
    ) throws -> Bool {
        var offset: Int64 = 0
        for entry in chunks {
            defer { offset += Int64(entry.length) }
            guard try packing.needs(entry.hash, unless: request.newChunks) else { continue }
            guard let bytes = try? PackReader.read(fd, at: offset, count: entry.length),
                bytes.withUnsafeBytes({ ChunkHash(of: $0) }) == entry.hash
            else { return false }
            try bytes.withUnsafeBytes { try packing.keep(entry, $0, unless: request.newChunks) }
        }
        return true
    }

    /// The pack being written and what was packed so far.
    private struct Packing {
        let store: HistoryStore
        let directory: Int32
        let maxPackSize: Int64
        var writer: PackWriter?
        var outcome = Outcome()

        init(store: HistoryStore, directory: Int32, maxPackSize: Int64) {
            (self.store, self.directory, self.maxPackSize) = (store, directory, maxPackSize)
        }

        /// Whether a chunk must be packed: the new version will not hold it and no pack does yet.
        func needs(_ hash: ChunkHash, unless newChunks: Set<ChunkHash>) throws -> Bool {
            guard !newChunks.contains(hash), writer?.contains(hash) != true else { return false }
            return try store.index.location(of: hash) == nil
        }

        /// Appends the chunk if it ``needs(_:unless:)`` it, closing a full pack.
        mutating func keep(_ entry: ChunkEntry, _ bytes: UnsafeRawBufferPointer, unless newChunks: Set<ChunkHash>)
            throws
        {
            guard try needs(entry.hash, unless: newChunks) else { return }
            if writer == nil { writer = try PackWriter(directory: directory, display: store.packsPath) }
            try writer!.append(entry.hash, bytes)
            outcome.chunks += 1
            outcome.bytes += Int64(entry.length)
            if writer!.byteCount >= maxPackSize {
                try close(writer!)
                writer = nil
            }
        }

        /// Closes the last pack; what was packed.
        mutating func finish() throws -> Outcome {
            if let writer { try close(writer) }
            writer = nil
            return outcome
        }

        private mutating func close(_ writer: PackWriter) throws {
            let size = writer.byteCount
            guard let pack = try writer.finish() else { return }
            try store.index.add(
                pack: pack.name,
                size: size + Int64(pack.entries.count * PackWriter.recordSize + PackWriter.trailerSize),
                entries: pack.entries)
            outcome.packs.append(pack.name)
        }
    }
}
