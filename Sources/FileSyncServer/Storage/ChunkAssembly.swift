import FileSyncCore
import FileSyncSystem
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The server's side of one chunked or delta transfer: checks every chunk against its SHA-256,
/// copies the chunks it already holds from stored files, writes the ones the client sends, and
/// keeps the chunk list for the catalog.
///
/// Failures of the file itself (a chunk that does not match its hash, a stored chunk that changed,
/// a full disk) do not end the session: the rest of the file's frames are checked and dropped, and
/// `FILE_END` reports the failure. Breaking the protocol (a chunk not asked for, more bytes than
/// announced) throws.
final class ChunkAssembly {
    let header: FileHeader
    /// The partial being written; `nil` when the file could not be started (see ``failure``).
    let file: IncomingFile?
    let transfer: TransferTask.Kind
    private let folder: ClientFolder
    private let catalog: ChunkCatalog

    /// Where each chunk of the current round comes from.
    private enum Source {
        /// The client sends it (it was in `CHUNK_NEED`).
        case client
        /// Copied from a stored file.
        case stored(ChunkCatalog.Location)
        /// Neither: the file already failed, so nothing was asked for.
        case skipped
        /// Already at this offset of the stored file being patched in place: nothing to write.
        case inPlace
    }

    /// The stored file being patched in place, while that stays cheaper than a fresh copy.
    private(set) var patch: InPlacePatch?
    /// How a finished transfer is to be committed.
    enum Outcome {
        /// A verified fresh copy, to be renamed over the stored file.
        case pending(PendingRename)
        /// The stored file was patched in place, and that is durable already.
        case patched
    }

    private var round: [(entry: ChunkEntry, source: Source)] = []
    private var position = 0
    /// File offset of the chunk at `position`.
    private var offset: Int64 = 0
    /// Total length of the chunks listed (delta) or received (chunked).
    private var planned: Int64 = 0
    private var digest = ChunkListDigest()
    /// The file's chunks for the catalog; `nil` once there are more than ``maxRecordedChunks``.
    private var chunks: [ChunkEntry]? = []
    /// Files with more chunks than this (about 32 GiB) are stored but not recorded in the catalog,
    /// so that memory stays bounded (about 40 bytes per chunk until the commit).
    static let maxRecordedChunks = 1 << 18
    /// Set once the file cannot be stored.
    private(set) var failure: FileSyncError?
    /// Stored files opened to copy chunks from, or `nil` for those found changed since recorded.
    private var sources: [String: Int32?] = [:]
    private let buffer = UnsafeMutableRawBufferPointer.allocate(
        byteCount: ProtocolLimits.maxChunkSize, alignment: 16)
    /// Bytes copied from stored files rather than received.
    private(set) var reusedBytes: Int64 = 0

    /// - Parameters:
    ///   - file: the partial to write, or `nil` when `failure` says why the file cannot be stored
    ///     (its frames are then checked and dropped).
    init(
        header: FileHeader, file: IncomingFile?, failure: FileSyncError? = nil, transfer: TransferTask.Kind,
        folder: ClientFolder, catalog: ChunkCatalog, patch: InPlacePatch? = nil
    ) {
        self.header = header
        self.patch = file == nil ? nil : patch
        self.file = file
        self.failure = file == nil ? failure ?? FileSyncError(.storageFailed, "cannot store the file") : nil
        self.transfer = transfer
        self.folder = folder
        self.catalog = catalog
    }

    deinit {
        for case .some(let fd) in sources.values { close(fd) }
        buffer.deallocate()
    }

    // MARK: - Frames

    /// A `CHUNK_LIST` frame: looks each chunk up and answers with the ones to send. Once the answer
    /// is on its way, call ``copyStoredChunks()``.
    func acceptList(_ payload: ByteBuffer) throws -> ChunkNeed {
        guard transfer == .delta else {
            throw FileSyncError(.unexpectedMessage, "CHUNK_LIST in a chunked transfer of \"\(header.path)\"")
        }
        guard position == round.count else {
            throw FileSyncError(
                .unexpectedMessage, "CHUNK_LIST before the chunks asked for in the last round of \"\(header.path)\"")
        }
        let entries = try ChunkEntry.list(from: payload)
        let total = entries.reduce(Int64(0)) { $0 + Int64($1.length) }
        guard total <= header.size - planned else {
            throw FileSyncError(
                .sizeMismatch, "the chunks listed for \"\(header.path)\" exceed its \(header.size) bytes")
        }
        if let patch, failure == nil {
            let unchanged = patch.unchanged(entries, from: planned)
            let newBytes = zip(entries, unchanged).reduce(Int64(0)) { $0 + ($1.1 ? 0 : Int64($1.0.length)) }
            let recordable = (chunks?.count ?? Int.max) + entries.count <= Self.maxRecordedChunks
            if patch.journaledBytes + newBytes > patch.limit || !recordable {
                convertToCopy()
            } else {
                round = zip(entries, unchanged).map { ($0, $1 ? .inPlace : .client) }
            }
        }
        if patch == nil || failure != nil { round = entries.map { ($0, .client) } }
        planned += total
        for entry in entries { digest.add(entry) }
        record(entries)
        position = 0
        if failure != nil {
            round = entries.map { ($0, .skipped) }
        } else {
            var unresolved = entries.indices.filter { if case .client = round[$0].source { true } else { false } }
            // A location found stale is forgotten; the next pass may find the chunk in another file.
            for _ in 0..<3 where !unresolved.isEmpty {
                guard let locations = try? catalog.locations(of: unresolved.map { entries[$0].hash }) else { break }
                var stale: [Int] = []
                for (index, location) in zip(unresolved, locations) {
                    guard let location, location.length == entries[index].length else { continue }
                    if isUsable(location) {
                        round[index].source = .stored(location)
                    } else {
                        stale.append(index)
                    }
                }
                unresolved = stale
            }
        }
        return ChunkNeed(needed: round.map { if case .client = $0.source { true } else { false } })
    }

    /// A `CHUNK` frame's hash and content (already decompressed).
    func acceptChunk(hash: ChunkHash, content: UnsafeRawBufferPointer) throws {
        switch transfer {
        case .delta:
            guard position < round.count, case .client = round[position].source else {
                throw FileSyncError(.unexpectedMessage, "a CHUNK frame for \"\(header.path)\" that was not asked for")
            }
            let entry = round[position].entry
            guard entry.hash == hash, entry.length == content.count else {
                throw FileSyncError(
                    .unexpectedMessage, "a CHUNK frame for \"\(header.path)\" does not match the chunk listed")
            }
            write(content, hash: hash)
            position += 1
            offset += Int64(content.count)
            copyStoredChunks()
        default:
            guard Int64(content.count) <= header.size - planned, !content.isEmpty else {
                throw FileSyncError(
                    .sizeMismatch, "more data than the \(header.size) bytes announced for \"\(header.path)\"")
            }
            planned += Int64(content.count)
            let entry = ChunkEntry(length: content.count, hash: hash)
            digest.add(entry)
            record(CollectionOfOne(entry))
            write(content, hash: hash)
            offset += Int64(content.count)
        }
    }

    /// `FILE_END`: the file, verified, ready to be renamed into place.
    ///
    /// - Throws: a protocol error (chunks still owed, fewer bytes than announced), or the file's
    ///   failure.
    func finish(_ end: FileEnd) throws -> Outcome {
        guard position == round.count, planned == header.size else {
            throw FileSyncError(
                .sizeMismatch, "FILE_END for \"\(header.path)\" after \(planned) of \(header.size) bytes")
        }
        if let failure { throw failure }
        let actual = digest.finalize()
        guard actual == end.sha256 else {
            throw FileSyncError(
                .checksumMismatch,
                "the chunk list digest of \"\(header.path)\" is \(actual), the client said \(end.sha256)")
        }
        if let patch {
            do {
                try patch.apply(chunks: chunks)
            } catch let error as FileSyncError {
                throw FileSyncError(
                    error.code, "\(error.message); an interrupted patch is completed at the next start of the server")
            }
            return .patched
        }
        guard let file else { throw FileSyncError(.internalError, "no partial for \"\(header.path)\"") }
        return .pending(try file.finish(chunks: chunks))
    }

    /// Drops the in-place patch, if any (the stored file stays as it was).
    func discardPatch() {
        patch?.discard()
        patch = nil
    }

    /// The session broke: the in-place patch is dropped (the next delta resends what it journaled),
    /// or kept as a partial up to here when resuming costs less (Protocol.md §5.6: last chunks listed,
    /// fewer bytes to come held here than journaled, ≤ 8 stored bytes copied per journaled one).
    func abandon() -> Int64? {
        let journaled = patch?.journaledBytes ?? 0
        let held = round[position...].reduce(Int64(0)) {
            if case .client = $1.source { $0 } else { $0 + Int64($1.entry.length) }
        }
        if failure == nil, planned == header.size, journaled > 0, held < journaled, offset <= 9 * journaled {
            convertToCopy(upTo: offset)
            return failure == nil ? offset : nil
        }
        discardPatch()
        return nil
    }

    // MARK: - Private

    private func record(_ entries: some Collection<ChunkEntry>) {
        guard chunks != nil else { return }
        if chunks!.count + entries.count > Self.maxRecordedChunks {
            chunks = nil
        } else {
            chunks!.append(contentsOf: entries)
        }
    }

    private func write(_ content: UnsafeRawBufferPointer, hash: ChunkHash) {
        guard failure == nil else { return }
        guard ChunkHash(of: content) == hash else {
            failure = FileSyncError(.checksumMismatch, "a chunk of \"\(header.path)\" does not match its SHA-256")
            return
        }
        store(content)
    }

    /// Writes verified content for the chunk at ``offset``: to the patch journal or the partial.
    private func store(_ content: UnsafeRawBufferPointer) {
        do {
            if let patch {
                try patch.write(content, at: offset)
            } else {
                try file?.write(content)
            }
        } catch {
            failure = error as? FileSyncError ?? FileSyncError(.storageFailed, "\(error)")
        }
    }

    /// Gives up patching in place: the partial receives what the file holds so far (each chunk
    /// from the journal or from the stored file, checked against its hash), up to the file offset
    /// `limit`, and the transfer goes on as a fresh copy.
    private func convertToCopy(upTo limit: Int64 = .max) {
        guard let patch, let file, let chunks else {
            failure =
                failure ?? FileSyncError(.internalError, "cannot turn the patch of \"\(header.path)\" into a copy")
            return
        }
        self.patch = nil
        defer { patch.discard() }
        let reader = patch.openJournalForReading()
        defer { if reader >= 0 { close(reader) } }
        var position: Int64 = 0
        for entry in chunks {
            guard position < limit else { return }
            let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[..<entry.length])
            guard patch.content(at: position, into: chunk, reader: reader),
                ChunkHash(of: UnsafeRawBufferPointer(chunk)) == entry.hash
            else {
                try? catalog.forget([header.path])
                failure = FileSyncError(
                    .checksumMismatch,
                    "\"\(header.path)\" no longer matches the catalog while being patched; it will be sent again")
                return
            }
            do {
                try file.write(UnsafeRawBufferPointer(chunk))
            } catch {
                failure = error as? FileSyncError ?? FileSyncError(.storageFailed, "\(error)")
                return
            }
            position += Int64(entry.length)
        }
    }

    /// Copies the stored chunks from the current position up to the next one the client sends.
    func copyStoredChunks() {
        while position < round.count {
            let (entry, source) = round[position]
            guard case .stored(let location) = source else {
                if case .client = source { return }
                if case .inPlace = source { reusedBytes += Int64(entry.length) }
                position += 1
                offset += Int64(entry.length)
                continue
            }
            position += 1
            defer { offset += Int64(entry.length) }
            guard failure == nil else { continue }
            guard let fd = sources[location.path] ?? nil else {
                failure = FileSyncError(.storageFailed, "the stored copy of \"\(location.path)\" went away")
                continue
            }
            let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[..<entry.length])
            guard readFully(fd, into: chunk, at: location.offset),
                ChunkHash(of: UnsafeRawBufferPointer(chunk)) == entry.hash
            else {
                // The stored file changed under the catalog: forget it, fail this file, and the next
                // session asks the client for the chunk instead.
                try? catalog.forget([location.path])
                failure = FileSyncError(
                    .checksumMismatch,
                    "a chunk stored in \"\(location.path)\" no longer matches the catalog; \"\(header.path)\" will be "
                        + "sent again")
                continue
            }
            store(UnsafeRawBufferPointer(chunk))
            reusedBytes += Int64(entry.length)
        }
    }

    /// Whether the stored file of `location` still is the version the catalog recorded (opening it
    /// to copy from); forgets it in the catalog if not.
    private func isUsable(_ location: ChunkCatalog.Location) -> Bool {
        if let known = sources[location.path] { return known != nil }
        var fd: Int32? = nil
        if let path = try? RelativePath(validating: location.path), let opened = folder.openForReading(path) {
            let identity = StoredFileIdentity(
                size: location.size, mtimeNs: location.mtimeNs, inode: location.inode, ctimeNs: nil)
            if identity.matches(descriptor: opened), location.offset + Int64(location.length) <= location.size {
                fd = opened
            } else {
                close(opened)
            }
        }
        if fd == nil { try? catalog.forget([location.path]) }
        sources[location.path] = fd
        return fd != nil
    }
}
