import Crypto
import FileSyncCore
import FileSyncSystem
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes one restored file into `DIR/.filesync-restore/partial/<sha256>`, in file order, hashing as
/// it goes; ``finish(serial:)`` checks the whole SHA-256, applies mode and mtime and hands the file
/// to a ``RestoreCommitBatch``, which syncs it and renames it into place. A chunked file takes the
/// chunks not sent from the existing local file, each checked against its hash as it is copied.
final class RestoreFileWriter {
    let entry: RestoreEntry
    let path: RelativePath
    private let folder: RestoreFolder
    private let partial: Int32
    private var fd: Int32
    /// The whole content's SHA-256, or for an entry listed by its chunk-list digest that digest at
    /// the listed boundaries (Protocol.md §11.3).
    private var hasher: ContentHasher
    /// The content's digest when the ``DirectWriter`` hashed it.
    private var digest: [UInt8]?
    /// For a chunked transfer: the local file, where its chunks are, and the next chunk to write.
    private var local: Int32 = -1
    private let localChunks: [ChunkHash: Int64]
    private var nextChunk = 0
    /// Bytes taken from the local file or a partial copy instead of the network.
    private(set) var reusedBytes: Int64 = 0
    /// The partial's length, and where the range not yet handed to the disk's writeback starts:
    /// every ``writebackStep`` bytes are written back while the rest arrives, so that the batch's
    /// sync of a large file waits only for its last few MiB (as the server does, §6.3).
    private var written: Int64 = 0
    private var writebackStart: Int64 = 0
    static let writebackStep: Int64 = 8 << 20
    /// For a large file: its data goes straight to the disk (``DirectWriter``), as the server
    /// stores a large backup, with no copy into the page cache and nothing dirty for the sync.
    private var directWriter: DirectWriter?
    static let directThreshold: Int64 = 8 << 20

    /// Opens the partial copy: new (empty), or continued from `offset` (the bytes before it hashed).
    init(
        folder: RestoreFolder, entry: RestoreEntry, path: RelativePath, offset: Int64?, localChunks: [ChunkHash: Int64]?
    )
        throws
    {
        self.folder = folder
        self.entry = entry
        self.path = path
        self.localChunks = localChunks ?? [:]
        hasher = Self.hasher(for: entry)
        partial = try folder.partialFolder(create: true)
        let name = entry.sha256!
        let flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC
        fd = offset == nil ? openat(partial, name, flags | O_CREAT | O_TRUNC, 0o600) : openat(partial, name, flags)
        guard fd >= 0 else { throw RestoreFolder.failure("cannot open the partial copy of \"\(path)\"") }
        if let offset {
            do {
                try hashPrefix(offset)
            } catch {
                close(fd)
                throw error
            }
        }
        if entry.size - (offset ?? 0) >= Self.directThreshold {
            // The writer's thread hashes a new file, beside the receiving of the next block.
            directWriter = DirectWriter(
                fd: fd, offset: offset ?? 0, hasher: offset == nil ? Self.hasher(for: entry) : nil)
        }
        if localChunks != nil {
            local = folder.openFile(path)
            if local < 0 {
                close(fd)
                throw RestoreFolder.failure("cannot open the local \"\(path)\" to reuse its chunks")
            }
        }
    }

    /// What the entry's content is checked against: its whole SHA-256, or its chunk-list digest.
    private static func hasher(for entry: RestoreEntry) -> ContentHasher {
        guard entry.isChunkListDigest, let chunks = entry.chunks else { return .whole(SHA256()) }
        return .chunkList(ChunkListHasher(lengths: chunks.map(\.length)))
    }

    deinit {
        if fd >= 0 { close(fd) }
        if local >= 0 { close(local) }
    }

    /// Hashes the partial's first `offset` bytes and cuts it there, so the data continues it.
    private func hashPrefix(_ offset: Int64) throws {
        guard let status = FileStatus.of(descriptor: fd), status.size >= offset, ftruncate(fd, off_t(offset)) == 0
        else { throw FileSyncError(.storageFailed, "the partial copy of \"\(path)\" is gone or shorter than asked") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ProtocolLimits.blockSize, alignment: 16)
        defer { buffer.deallocate() }
        var done: Int64 = 0
        while done < offset {
            let part = UnsafeMutableRawBufferPointer(rebasing: buffer[..<Int(min(Int64(buffer.count), offset - done))])
            guard readFully(fd, into: part, at: done) else { throw RestoreFolder.failure("cannot read a partial copy") }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(part))
            done += Int64(part.count)
        }
        reusedBytes = offset
        (written, writebackStart) = (offset, offset)
        guard lseek(fd, off_t(offset), SEEK_SET) == off_t(offset) else {
            throw RestoreFolder.failure("cannot seek in a partial copy")
        }
    }

    /// Appends content bytes.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if directWriter?.hashes != true { hasher.update(bufferPointer: bytes) }
        if let directWriter {
            guard directWriter.append(bytes) else {
                throw RestoreFolder.failure("cannot write the partial copy of \"\(path)\"")
            }
            written += Int64(bytes.count)
            return
        }
        guard writeFully(fd, bytes) else { throw RestoreFolder.failure("cannot write the partial copy of \"\(path)\"") }
        written += Int64(bytes.count)
        if written - writebackStart >= Self.writebackStep {
            startWriteback(of: fd, from: writebackStart, count: written - writebackStart)
            writebackStart = written
        }
    }

    /// Appends the content bytes of `buffer`, which a large file's ``DirectWriter`` may keep and
    /// write from instead of copying them.
    func write(_ buffer: ByteBuffer) throws {
        guard let directWriter else { return try buffer.withUnsafeReadableBytes { try write($0) } }
        if !directWriter.hashes { buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) } }
        guard directWriter.append(buffer) else {
            throw RestoreFolder.failure("cannot write the partial copy of \"\(path)\"")
        }
        written += Int64(buffer.readableBytes)
    }

    /// Appends chunk `index` (received), after copying the local chunks before it.
    func writeChunk(_ index: Int, _ bytes: UnsafeRawBufferPointer) throws {
        try copyLocalChunks(upTo: index)
        try write(bytes)
        nextChunk = index + 1
    }

    /// Copies the chunks from ``nextChunk`` up to `index` (exclusive) from the local file.
    func copyLocalChunks(upTo index: Int) throws {
        guard let chunks = entry.chunks, nextChunk < index else { return }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ProtocolLimits.maxChunkSize, alignment: 16)
        defer { buffer.deallocate() }
        for chunk in chunks[nextChunk..<index] {
            let part = UnsafeMutableRawBufferPointer(rebasing: buffer[..<chunk.length])
            guard let hash = chunk.hash, let offset = localChunks[hash], readFully(local, into: part, at: offset),
                ChunkHash(of: UnsafeRawBufferPointer(part)) == hash
            else {
                throw FileSyncError(.sourceChanged, "the local \"\(path)\" changed while its chunks were reused")
            }
            reusedBytes += Int64(chunk.length)
            try write(UnsafeRawBufferPointer(part))
        }
        nextChunk = index
    }

    /// Finishes the file: the remaining local chunks, the whole SHA-256 (a mismatch deletes the
    /// partial), mode and mtime; then the partial is renamed `<sha256>.<serial>` (so that another
    /// file of the same content can start its own) and handed over, open, for the batch to commit.
    func finish(serial: Int) throws -> RestoreCommitBatch.Pending {
        if let chunks = entry.chunks, local >= 0 { try copyLocalChunks(upTo: chunks.count) }
        if let directWriter {
            self.directWriter = nil
            guard directWriter.finish() else {
                throw RestoreFolder.failure("cannot write the partial copy of \"\(path)\"")
            }
            digest = directWriter.digest
        }
        let name = entry.sha256!
        guard (digest ?? hasher.finalize())?.hexString == name else {
            unlinkat(partial, name, 0)
            let what = entry.isChunkListDigest ? "chunk-list digest" : "SHA-256"
            throw FileSyncError(.checksumMismatch, "the \(what) of the content received for \"\(path)\" is not \(name)")
        }
        guard
            RestoreFolder.apply(
                mode: entry.mode, mtimeNs: entry.mtimeNs, owner: (entry.uid, entry.gid), xattrs: entry.xattrs, to: fd)
        else {
            throw RestoreFolder.failure("cannot set the mode, extended attributes and mtime of \"\(path)\"")
        }
        let checked = "\(name).\(serial)"
        guard renameat(partial, name, partial, checked) == 0 else {
            throw RestoreFolder.failure("cannot set aside the checked copy of \"\(path)\"")
        }
        defer { fd = -1 }
        return RestoreCommitBatch.Pending(
            descriptor: fd, partialName: checked, path: path, sha256: name, size: entry.size, reusedBytes: reusedBytes)
    }
}
