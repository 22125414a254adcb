import Crypto
import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How the history engine splits a file into chunks. Defined once, here, and never taken from a
/// client: every snapshot, pack and lookup must cut the same content the same way, or old chunks
/// would stop deduplicating.
enum HistoryChunking {
    /// FastCDC with the same sizes as ``ChunkCutter/standard`` (64 KiB minimum, 128 KiB target,
    /// 512 KiB maximum), written out so that a change of the client's cutter never changes history;
    /// while they agree, the chunk list of a delta transfer names the same hashes, so the session can
    /// pass it to ``Preserver`` as the chunks of the new version.
    static let cutter = ChunkCutter(minSize: 64 << 10, averageSize: 128 << 10, maxSize: 512 << 10)

    /// Files shorter than this are one chunk, whose hash is the file's SHA-256: small files gain
    /// nothing from being cut, and one hash then serves both purposes.
    static let singleChunkLimit = 1 << 20

    /// Whether the client's cutter (``ChunkCutter/standard``) cuts as this one does: only then may
    /// the chunk list of a delta transfer (a file of at least ``singleChunkLimit`` bytes) serve as
    /// the `newChunks` of ``Preserver``; otherwise the session must cut the new version with
    /// ``cut(_:size:_:)``.
    static var cutsLikeClients: Bool {
        let standard = ChunkCutter.standard
        return (standard.minSize, standard.averageSize, standard.maxSize)
            == (cutter.minSize, cutter.averageSize, cutter.maxSize)
    }

    /// Whether a file of `size` bytes sent in chunks by a client that cuts as the history does
    /// (`cutsLikeClient`) is named in its snapshot by those chunks, each checked against its hash as
    /// it arrived, so that nobody need hash the whole (Protocol.md §11.3, `chunkDigest`): a file
    /// whose chunks a restore can always list (chunks after the first 64 KiB cut: at most
    /// ``RestoreEntry/maxChunks`` of more than 65,536 bytes).
    static func namesByChunks(size: Int64, cutsLikeClient: Bool) -> Bool {
        cutsLikeClient && cutsLikeClients && size >= Int64(singleChunkLimit)
            && size <= Int64(RestoreEntry.maxChunks) * Int64(ChunkCutter.standard.minSize + 1)
    }

    /// A file cut into chunks: its whole SHA-256 (`nil` when only its chunks were hashed, see
    /// ``FileContent/sha256``) and its chunk list.
    struct Cut: Sendable, Equatable {
        var sha256: ChunkHash?
        var chunks: [ChunkEntry]
        var size: Int64
    }

    /// Reads `fd` from its start to its end, calling `body` with each chunk's offset, entry and bytes
    /// (valid during the call only). Memory stays at one read buffer whatever the file's size.
    static func cut(
        _ fd: Int32, size: Int64,
        _ body: (Int64, ChunkEntry, UnsafeRawBufferPointer) throws -> Void = { _, _, _ in }
    ) throws -> Cut {
        if size < Int64(singleChunkLimit) {
            var bytes = [UInt8](repeating: 0, count: Int(size))
            let count = try bytes.withUnsafeMutableBytes { try readUpTo(fd, into: $0) }
            guard count == Int(size) else {
                throw FileSyncError(.sourceChanged, "the file changed size while it was read")
            }
            return try bytes.withUnsafeBytes { raw in
                let hash = ChunkHash(of: raw)
                guard size > 0 else { return Cut(sha256: hash, chunks: [], size: 0) }
                let entry = ChunkEntry(length: raw.count, hash: hash)
                try body(0, entry, raw)
                return Cut(sha256: hash, chunks: [entry], size: size)
            }
        }
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw FileSyncError.storage("seek", "a stored file") }
        var reader = ChunkReader(fd: fd, cutter: cutter)
        var hasher = SHA256()
        var chunks: [ChunkEntry] = []
        var total: Int64 = 0
        while let chunk = try reader.next() {
            hasher.update(bufferPointer: chunk.bytes)
            try body(chunk.offset, chunk.entry, chunk.bytes)
            chunks.append(chunk.entry)
            total += Int64(chunk.entry.length)
        }
        return Cut(sha256: ChunkHash(hasher.finalize()), chunks: chunks, size: total)
    }

    /// Reads from offset 0 until `buffer` is full or the file ends; the count read.
    private static func readUpTo(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let count = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(done))
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw FileSyncError.storage("read", "a stored file") }
            if count == 0 { break }
            done += count
        }
        return done
    }
}
