import Crypto
import FileSyncCore
import FileSyncSystem
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A delta transfer applied to the stored file itself instead of a new copy: only the chunks that
/// are not already at the same offset are written, so one changed byte in a large file costs a few
/// chunks of writes and syncs instead of rewriting and syncing the whole file.
///
/// Crash safety comes from a redo journal, `<root>/.filesync/<client-id>/patch.journal`
/// (``PatchJournal``): the new bytes go there first; at `FILE_END` the journal is completed, synced,
/// and only then copied into the file, which is synced before the journal is removed. A crash
/// before the journal is complete leaves the file untouched (the torn journal is ignored); a crash
/// after leaves a complete journal, which ``recover(in:folder:logger:)`` applies again at
/// the next start of the server or of this client's session, before anything reads the file.
///
/// Used only when the file is exactly what the catalog recorded (size, mtime, inode, and the
/// status-change time, which no one can set back, so a stored file edited behind the server's back
/// is never trusted to hold its recorded chunks) and has no
/// other hard link (a snapshot made with `cp -al` must keep the old content), and while the new
/// bytes stay under ``limit``; otherwise the transfer goes to a partial as usual. With history, the
/// old version's chunks that no pack holds and the new version lacks are packed first (``Preserver``).
final class InPlacePatch {
    let target: PatchJournal.Target
    private let relativePath: RelativePath
    private let record: ChunkCatalog.FileRecord
    private let catalog: ChunkCatalog
    /// With history: packs the old version's chunks that snapshots need before the file changes.
    private let preserver: Preserver?
    /// The stored file, open for writing.
    private let file: Int32
    /// `<root>/.filesync/<client-id>`, where the journal lives.
    private let directory: Int32
    private var journal: Int32
    /// Whether the patched file's chunks are cataloged as the history's (see ``begin``).
    private var historyCut = false
    private var hasher = SHA256()
    private var journalLength: Int64 = 0
    private var records: [(offset: Int64, length: Int, position: Int64)] = []
    /// Bytes of new content in the journal.
    private(set) var journaledBytes: Int64 = 0
    /// Set once the stored file is being written: from then on only completing the patch is safe.
    private var touched = false
    /// The most new content an in-place patch may carry: beyond it a fresh copy is cheaper than
    /// writing everything twice (journal, then file), and the journal stays small.
    let limit: Int64

    private static let journalName = ClientStateDirectory.journalName

    /// The in-place limit for a file of `size` bytes: an eighth of it, from 1 MiB to 32 MiB.
    static func limit(forSize size: Int64) -> Int64 { min(32 << 20, max(1 << 20, size / 8)) }

    /// Starts patching the stored file at `path` towards `header`, or returns `nil` when the file
    /// is not eligible (not recorded, changed since, hard-linked, not writable).
    ///
    /// - Parameter historyCut: whether the client cuts as the history does (`chunkerV1`): the
    ///   patched file's chunk list is then cataloged as the history's, so that its snapshot names it
    ///   by its chunks instead of reading the whole file back (Protocol.md §11.5).
    static func begin(
        header: FileHeader, path: RelativePath, folder: ClientFolder, catalog: ChunkCatalog,
        state: ClientStateDirectory, preserver: Preserver? = nil, historyCut: Bool = false
    ) -> InPlacePatch? {
        guard let record = try? catalog.file(at: header.path),
            let parent = try? folder.parentDirectory(of: path, create: false)
        else { return nil }
        let file = openat(parent, String(path.components.last!), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard file >= 0 else { return nil }
        // Unchanged since cataloged, and with no other name that a write in place would change too.
        guard let status = FileStatus.of(descriptor: file), record.identity.matches(status), status.linkCount == 1
        else {
            close(file)
            return nil
        }
        let directory = open(state.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directory >= 0 else {
            close(file)
            return nil
        }
        let journal = openat(directory, journalName, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard journal >= 0 else {
            close(file)
            close(directory)
            return nil
        }
        let target = PatchJournal.Target(
            path: header.path, inode: record.inode, size: header.size, mtimeNs: header.mtimeNs,
            mode: UInt32(header.mode & 0o777))
        let patch = InPlacePatch(
            target: target, path: path, record: record, catalog: catalog, file: file, directory: directory,
            journal: journal, preserver: preserver)
        patch.historyCut = historyCut
        guard patch.append(PatchJournal.header(for: target)) else {
            patch.discard()
            return nil
        }
        return patch
    }

    private init(
        target: PatchJournal.Target, path: RelativePath, record: ChunkCatalog.FileRecord, catalog: ChunkCatalog,
        file: Int32, directory: Int32, journal: Int32, preserver: Preserver?
    ) {
        self.target = target
        self.relativePath = path
        self.record = record
        self.catalog = catalog
        self.file = file
        self.directory = directory
        self.journal = journal
        self.preserver = preserver
        self.limit = Self.limit(forSize: target.size)
    }

    deinit {
        close(file)
        if journal >= 0 { close(journal) }
        close(directory)
    }

    // MARK: - Receiving

    /// Which of `entries`, laid out from file offset `offset`, the stored file already holds at the
    /// same place (so nothing needs writing for them).
    func unchanged(_ entries: [ChunkEntry], from offset: Int64) -> [Bool] {
        let total = entries.reduce(Int64(0)) { $0 + Int64($1.length) }
        let end = min(offset + total, record.size)
        guard end > offset, let stored = try? catalog.chunks(of: record, startingIn: offset..<end) else {
            return Array(repeating: false, count: entries.count)
        }
        var position = offset
        return entries.map { entry in
            defer { position += Int64(entry.length) }
            return position + Int64(entry.length) <= record.size && stored[position] == entry
        }
    }

    /// Adds new content for `offset` of the file to the journal.
    func write(_ content: UnsafeRawBufferPointer, at offset: Int64) throws {
        let header = PatchJournal.recordHeader(offset: offset, length: content.count)
        guard append(header), append(content) else {
            throw FileSyncError.storage("write the patch journal for", target.path)
        }
        records.append((offset, content.count, journalLength - Int64(content.count)))
        journaledBytes += Int64(content.count)
    }

    /// Reads `length` bytes the file is to hold at `offset` (from the journal when they were
    /// written to it, else from the file) into `buffer`; for turning the patch into a fresh copy.
    func content(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer, reader: Int32) -> Bool {
        if let record = records.first(where: { $0.offset == offset && $0.length == buffer.count }) {
            return readFully(reader, into: buffer, at: record.position)
        }
        return readFully(file, into: buffer, at: offset)
    }

    /// Opens the journal for reading (the caller closes it).
    func openJournalForReading() -> Int32 {
        openat(directory, Self.journalName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
    }

    // MARK: - Commit

    /// Completes the journal, makes it durable, applies it, makes the file durable, removes the
    /// journal, and records `chunks` in the catalog. When this throws after the file was touched,
    /// the journal stays, and the next start completes the patch.
    func apply(chunks: [ChunkEntry]?) throws {
        try preserveOldVersion(keeping: chunks)
        let trailer = PatchJournal.trailerPrefix(records: records.count)
        guard append(trailer) else { throw storageError("write the patch journal for") }
        let digest = Array(hasher.finalize())
        guard digest.withUnsafeBytes({ writeFully(journal, $0) }), fdatasync(journal) == 0, fsync(directory) == 0
        else { throw storageError("sync the patch journal for") }
        close(journal)
        journal = -1
        do {
            try catalog.forgetDurably(target.path)
        } catch {
            unlinkat(directory, Self.journalName, 0)
            throw error
        }
        let reader = openJournalForReading()
        guard reader >= 0 else { throw storageError("reopen the patch journal for") }
        defer { close(reader) }
        touched = true
        try Self.copy(records, from: reader, into: file, target: target, path: relativePath)
        // The file is complete and durable: the journal has done its job.
        unlinkat(directory, Self.journalName, 0)
        fsync(directory)
        if let chunks, let status = FileStatus.of(descriptor: file) {
            try? catalog.record(
                path: target.path, size: target.size, mtimeNs: target.mtimeNs, inode: target.inode,
                ctimeNs: status.ctimeNs, chunks: chunks, historyCut: historyCut)
        }
    }

    /// Abandons the patch: the journal goes, the stored file was never touched. Once ``apply(chunks:)``
    /// started writing the file, the journal stays for the next start to complete it.
    func discard() {
        guard !touched else { return }
        if journal >= 0 {
            close(journal)
            journal = -1
        }
        unlinkat(directory, Self.journalName, 0)
    }

    // MARK: - Recovery

    /// Completes a patch interrupted by a crash, if `state` holds a complete journal (a torn one is
    /// removed: its file was not touched). Call before anything reads the client's folder.
    static func recover(in state: ClientStateDirectory, folder: ClientFolder, logger: Logger) {
        let directory = open(state.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directory >= 0 else { return }
        defer { close(directory) }
        let reader = openat(directory, journalName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard reader >= 0 else { return }
        defer { close(reader) }
        var info = stat()
        guard fstat(reader, &info) == 0, info.st_size <= maxJournalLength else {
            logger.warning("removed an oversized patch journal", metadata: ["state": "\(state.path)"])
            unlinkat(directory, journalName, 0)
            return
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let complete = bytes.withUnsafeMutableBytes { readFully(reader, into: $0, at: 0) }
        guard complete, let journal = PatchJournal(decoding: bytes) else {
            logger.info("removed a patch journal cut short by a crash; its file was not touched")
            unlinkat(directory, journalName, 0)
            fsync(directory)
            return
        }
        let path = journal.target.path
        guard let relative = try? RelativePath(validating: path),
            let parent = try? folder.parentDirectory(of: relative, create: false)
        else {
            logger.warning("removed the patch journal of a file that is gone", metadata: ["path": "\(path)"])
            unlinkat(directory, journalName, 0)
            return
        }
        let file = openat(parent, String(relative.components.last!), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        defer { if file >= 0 { close(file) } }
        var fileInfo = stat()
        guard file >= 0, fstat(file, &fileInfo) == 0, UInt64(fileInfo.st_ino) == journal.target.inode else {
            logger.warning("removed the patch journal of a file replaced since", metadata: ["path": "\(path)"])
            unlinkat(directory, journalName, 0)
            return
        }
        do {
            try? state.openCatalog().forgetDurably(path)
            try copy(
                journal.records.map { ($0.offset, $0.range.count, Int64($0.range.lowerBound)) }, from: reader,
                into: file, target: journal.target, path: relative)
            unlinkat(directory, journalName, 0)
            fsync(directory)
            logger.notice("completed a patch that a crash interrupted", metadata: ["path": "\(path)"])
        } catch {
            logger.error(
                "cannot complete an interrupted patch (will retry at the next start)",
                metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    /// A journal can hold ``limit(forSize:)`` bytes of content plus its headers; anything much
    /// longer is not one of ours.
    static let maxJournalLength = off_t(64 << 20)

    /// Completes every interrupted patch under `root` (at server start).
    static func recoverAll(root: String, logger: Logger) {
        // A name that is not UTF-8 is no client id.
        for name in DirectoryEntries.names(atPath: ClientStateDirectory.stateRoot(root)) ?? [] {
            guard let id = try? ClientID(validating: name) else { continue }
            let state = ClientStateDirectory(root: root, id: id)
            guard access(state.journal, F_OK) == 0, let folder = try? ClientFolder(root: root, id: id) else { continue }
            recover(in: state, folder: folder, logger: logger)
        }
    }

    // MARK: - Private

    /// Writes each record's content from `journal` into `file`, then size, mode and time, and syncs.
    private static func copy(
        _ records: [(offset: Int64, length: Int, position: Int64)], from journal: Int32, into file: Int32,
        target: PatchJournal.Target, path: RelativePath
    ) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: PatchJournal.maxRecordLength, alignment: 16)
        defer { buffer.deallocate() }
        for record in records {
            let content = UnsafeMutableRawBufferPointer(rebasing: buffer[..<record.length])
            guard readFully(journal, into: content, at: record.position) else {
                throw FileSyncError.storage("read the patch journal for", target.path)
            }
            guard writeFully(file, UnsafeRawBufferPointer(content), at: record.offset) else {
                throw FileSyncError.storage("patch", target.path)
            }
        }
        var info = stat()
        guard fstat(file, &info) == 0 else { throw FileSyncError.storage("patch", target.path) }
        if Int64(info.st_size) != target.size {
            guard ftruncate(file, off_t(target.size)) == 0 else {
                throw FileSyncError.storage("set the size of", target.path)
            }
        }
        let header = FileHeader(path: target.path, size: target.size, mtimeNs: target.mtimeNs, mode: target.mode)
        try IncomingFile.applyModeAndTime(of: header, to: file, path: path)
        guard fsync(file) == 0 else { throw FileSyncError.storage("sync", target.path) }
    }

    /// With history, packs durably what the old version holds that the new one will not (§11.5),
    /// while the file is still untouched and before the journal is complete: a journal that
    /// recovery would apply is therefore always preceded by this, and recovery needs no history.
    private func preserveOldVersion(keeping chunks: [ChunkEntry]?) throws {
        guard let preserver else { return }
        // The chunk list names the new version's chunks as history cuts them only for a file cut
        // into several chunks by the same chunker; otherwise keep nothing back (packs more, safely).
        let cutAlike = HistoryChunking.cutsLikeClients && target.size >= Int64(HistoryChunking.singleChunkLimit)
        let keeping = cutAlike ? Set((chunks ?? []).map(\.hash)) : Set<ChunkHash>()
        do {
            try preserver.preserve(relativePath: target.path, keeping: keeping)
        } catch {
            discard()
            throw error
        }
    }

    private func append(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { append($0) }
    }

    private func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard writeFully(journal, bytes) else { return false }
        hasher.update(bufferPointer: bytes)
        journalLength += Int64(bytes.count)
        return true
    }

    private func storageError(_ action: String) -> FileSyncError {
        let error = FileSyncError.storage(action, target.path)
        discard()
        return error
    }
}
