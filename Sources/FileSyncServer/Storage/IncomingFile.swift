import CFileSyncShims
import Crypto
import FileSyncCore
import FileSyncSystem
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file being received: written to its partial file outside the visible tree, hashed as it
/// arrives, and only renamed into the client's folder once complete, verified and synced.
final class IncomingFile {
    let path: RelativePath
    let header: FileHeader
    /// The partial's name in the ``PartialStore``.
    let partialName: String
    private let parentComponents: [Substring]
    private var fd: Int32
    private var hasher: SHA256
    /// Whether `write` feeds the whole-file SHA-256 (not for chunked and delta transfers, whose
    /// chunks are checked one by one).
    private let hashesContent: Bool
    private(set) var received: Int64
    /// Bytes up to here were handed to writeback already (see ``writebackInterval``).
    private var writebackStart: Int64
    /// A large file's data is handed to the disk every 8 MiB as it arrives, so that the sync before
    /// its commit waits for the last few MiB only, not for the whole file.
    static let writebackInterval: Int64 = 8 << 20
    /// Writes the data of a large file straight to the device; `nil` for small files, and where the
    /// filesystem does not support direct I/O.
    private let directWriter: DirectWriter?
    /// Files with at least this many bytes still to come are written with a ``DirectWriter``.
    static let directThreshold: Int64 = 8 << 20

    /// Opens the partial for `header`, continuing after `resume.offset` bytes when given.
    ///
    /// - Parameter hashesWhole: for a chunked transfer (`hashesContent` false), whether the whole
    ///   content is hashed as it is written anyway, for its snapshot; not when the snapshot can name
    ///   the file by the chunks checked as they arrived (``HistoryChunking/namesByChunks(size:cutsLikeClient:)``).
    init(
        header: FileHeader, path: RelativePath, resume: PartialStore.Offer?, store: PartialStore, folder: ClientFolder,
        hashesContent: Bool = true, hashesWhole: Bool = true
    ) throws {
        self.path = path
        self.header = header
        self.hashesContent = hashesContent
        self.parentComponents = path.parentComponents
        // Make sure the destination folder can exist before any data is accepted.
        guard try folder.parentDirectory(of: path, create: true) != nil else {
            throw FileSyncError.storage("create the folder of", path.string, errno: ENOENT)
        }
        let offset = resume?.offset ?? 0
        (partialName, fd) = try store.open(for: header, offset: offset)
        hasher = resume?.hasher ?? SHA256()
        received = offset
        writebackStart = offset
        // The writer's thread hashes a new file, beside the receiving of the next block: the check
        // of a whole transfer, and for a chunked one the whole SHA-256 its snapshot may record.
        directWriter =
            header.size - offset >= Self.directThreshold
            ? DirectWriter(fd: fd, offset: offset, hashing: offset == 0 && (hashesContent || hashesWhole)) : nil
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Appends `bytes`. The callers keep within the size the header announced: the receive state
    /// machine for data frames, ``ChunkAssembly`` for chunks.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if hashesContent && directWriter?.hashes != true { hasher.update(bufferPointer: bytes) }
        if let directWriter {
            guard directWriter.append(bytes) else { throw FileSyncError.storage("write", path.string) }
            received += Int64(bytes.count)
            return
        }
        guard writeFully(fd, bytes) else { throw FileSyncError.storage("write", path.string) }
        received += Int64(bytes.count)
        if received - writebackStart >= Self.writebackInterval {
            _ = filesync_start_writeback(fd, writebackStart, received - writebackStart)
            writebackStart = received
        }
    }

    /// Appends the bytes of `buffer`, which a large file's ``DirectWriter`` may keep and write from
    /// instead of copying them.
    func write(_ buffer: ByteBuffer) throws {
        guard let directWriter else { return try buffer.withUnsafeReadableBytes { try write($0) } }
        if hashesContent && !directWriter.hashes {
            buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        }
        guard directWriter.append(buffer) else { throw FileSyncError.storage("write", path.string) }
        received += Int64(buffer.readableBytes)
    }

    /// Checks size and SHA-256, applies mode and mtime, and closes the partial. The caller renames
    /// it into place after the next ``ClientFolder/synchronize()``.
    func finish(sha256 expected: String) throws -> PendingRename {
        var digest: [UInt8]?
        if let directWriter {
            guard directWriter.finish() else { throw FileSyncError.storage("write", path.string) }
            digest = directWriter.digest
        }
        let bytes = digest ?? Array(hasher.finalize())
        let actual = bytes.hexString
        // Hex on the wire is lowercase only (Protocol.md §1): other text is not this content.
        guard actual == expected else {
            throw FileSyncError(.checksumMismatch, "SHA-256 of \"\(path)\" is \(actual), the client said \(expected)")
        }
        var rename = try finish(chunks: nil)
        rename.sha256 = bytes.withUnsafeBytes { ChunkHash(bytes: $0) }
        return rename
    }

    /// Like ``finish(sha256:)`` once the content was verified otherwise (chunk by chunk); `chunks`
    /// travel with the rename, to be recorded in the catalog.
    func finish(chunks: [ChunkEntry]?) throws -> PendingRename {
        guard received == header.size else {
            throw FileSyncError(.sizeMismatch, "received \(received) of \(header.size) bytes for \"\(path)\"")
        }
        if let directWriter, !directWriter.finish() { throw FileSyncError.storage("write", path.string) }
        let sha256 = directWriter?.digest.flatMap { digest in digest.withUnsafeBytes { ChunkHash(bytes: $0) } }
        try Self.applyModeAndTime(of: header, to: fd, path: path)
        var info = stat()
        let inode = fstat(fd, &info) == 0 ? UInt64(info.st_ino) : 0
        let closed = close(fd)
        fd = -1
        guard closed == 0 else { throw FileSyncError.storage("close", path.string) }
        return PendingRename(
            path: path, parentComponents: parentComponents, size: header.size,
            mtimeNs: header.mtimeNs, inode: inode, chunks: chunks, descriptor: nil, sha256: sha256)
    }

    /// Applies `mode & 0o777` and the mtime (also as atime) of `header` to `fd`; the mode only when
    /// it differs from `currentMode`, the file's permission bits if known.
    static func applyModeAndTime(
        of header: FileHeader, to fd: Int32, path: RelativePath, currentMode: UInt32? = nil
    ) throws {
        if currentMode != header.mode & 0o777 {
            guard fchmod(fd, mode_t(header.mode & 0o777)) == 0 else {
                throw FileSyncError.storage("set the mode of", path.string)
            }
        }
        let seconds = header.mtimeNs >= 0 ? header.mtimeNs / 1_000_000_000 : (header.mtimeNs + 1) / 1_000_000_000 - 1
        let mtime = timespec(tv_sec: Int(seconds), tv_nsec: Int(header.mtimeNs - seconds * 1_000_000_000))
        guard futimens(fd, [mtime, mtime]) == 0 else { throw FileSyncError.storage("set the time of", path.string) }
    }

    /// The session broke: syncs what was received so it can be resumed, even after a restart.
    func keep() {
        guard fd >= 0 else { return }
        _ = directWriter?.finish()
        fdatasync(fd)
        close(fd)
        fd = -1
    }

    /// Closes and deletes the partial; the destination is untouched.
    func discard(from store: PartialStore) {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        store.remove(named: partialName)
    }
}

/// A verified file waiting for the sync that precedes its rename (or link) into the client's folder.
struct PendingRename: Sendable {
    let path: RelativePath
    let parentComponents: [Substring]
    let size: Int64
    let mtimeNs: Int64
    let inode: UInt64
    /// The file's chunks, for the catalog (chunked and delta transfers only).
    let chunks: [ChunkEntry]?
    /// An unnamed file (`O_TMPFILE`) in the destination folder, open until it is linked into place;
    /// `nil` when the content is in the partial `partialName`.
    let descriptor: Int32?
    /// The whole content's SHA-256, when the session computed or checked it from every byte it
    /// wrote: for the catalog (a file stored in one go with a ``DirectWriter``), and for the
    /// snapshot of a small file (``StoredFileDigests``), which then need not read it again.
    var sha256: ChunkHash? = nil
    /// Whether the file's chunks are read back from the disk for the catalog once the session is
    /// over: a resumed file, which came as plain data with no chunk list.
    var readsBackChunks = false
    /// Whether ``chunks`` were cut as the history cuts (a `chunkerV1` client), each checked as it
    /// arrived: the catalog then says so, and the file's snapshot needs no read-back (it records
    /// ``sha256`` if known, else names the file by its chunks).
    var historyCut = false

    /// The name of the file's partial (computed on demand: most files are linked in unnamed).
    var partialName: String { PartialStore.name(for: path.string, size: size, mtimeNs: mtimeNs) }

    /// Makes the content durable before the rename: `fdatasync`.
    func synchronize(in store: PartialStore) throws {
        if let descriptor {
            guard fdatasync(descriptor) == 0 else { throw FileSyncError.storage("sync", path.string) }
        } else {
            try store.synchronize(named: partialName, path: path.string)
        }
    }

    /// Renames the partial over the destination (atomically replacing any old version). An unnamed
    /// file is linked in place when nothing is there yet; otherwise it is named in the partial
    /// folder first and renamed over the old version like any partial.
    ///
    /// - Returns: for a file with ``chunks``, a ``sha256`` or one that ``readsBackChunks``, its
    ///   status once in place (for the catalog and the snapshot's ``StoredFileDigests``).
    @discardableResult
    func rename(from store: PartialStore, into folder: ClientFolder) throws -> FileStatus? {
        defer { if let descriptor { close(descriptor) } }
        guard case .found(let parent) = try folder.directory(parentComponents, create: true) else {
            throw FileSyncError.storage("reopen the folder of", path.string, errno: ENOENT)
        }
        let name = String(path.lastComponent)
        if let descriptor {
            if filesync_link_unnamed(descriptor, parent, name) == 0 {
                // The descriptor is the linked file itself: no lookup, and no other file's status.
                return recordsStatus ? FileStatus.of(descriptor: descriptor) : nil
            }
            let code = errno
            unlinkat(store.descriptor, partialName, 0)
            guard code == EEXIST, filesync_link_unnamed(descriptor, store.descriptor, partialName) == 0 else {
                throw FileSyncError.storage("link into place", path.string, errno: code)
            }
        }
        guard renameat(store.descriptor, partialName, parent, name) == 0 else {
            let code = errno
            store.remove(named: partialName)
            throw FileSyncError.storage("rename into place", path.string, errno: code)
        }
        return placedStatus(parent, name)
    }

    /// Whether ``rename(from:into:)`` reports the placed file's status.
    private var recordsStatus: Bool { chunks != nil || readsBackChunks || sha256 != nil }

    private func placedStatus(_ parent: Int32, _ name: String) -> FileStatus? {
        guard recordsStatus else { return nil }
        if let descriptor { return FileStatus.of(descriptor: descriptor) }
        guard let status = FileStatus.of(name, in: parent), status.inode == inode else { return nil }
        return status
    }

    /// Drops the verified content without touching the destination.
    func discard(from store: PartialStore) {
        if let descriptor { close(descriptor) } else { store.remove(named: partialName) }
    }
}
