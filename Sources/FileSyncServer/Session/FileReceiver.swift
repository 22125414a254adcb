import CFileSyncShims
import FileSyncCore
import Logging
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Receives the files of one session: `FILE_HEADER`, data frames, `FILE_END` or `FILE_ABORT`,
/// until `DONE`.
///
/// Verified files are committed in batches: one filesystem sync, the renames, a second sync, then
/// one `FILE_ACK` for the batch. A file that fails (bad checksum, disk full, a symlink in the way)
/// is discarded and reported at once; the session goes on. Protocol violations end the session.
struct FileReceiver {
    let folder: ClientFolder
    let partials: PartialStore
    /// Tasks not yet sent by the client.
    private(set) var expected: ExpectedFiles
    /// Resume offers made in `TASKS`, by path.
    private let offers: [String: PartialStore.Offer]
    /// Chunked and delta tasks, by path.
    private let chunkTasks: [String: TransferTask.Kind]
    private let catalog: ChunkCatalog?
    /// Decompresses data and chunk frames with the codecs the session negotiated.
    private let decompressor: BlockDecompressor
    /// Whether the client may send file frames (the `fileFrames` capability).
    private let fileFrames: Bool
    /// With binary tasks: the manifest's paths, to acknowledge files by entry number.
    private let entries: PathSet?
    /// Unnamed files made ahead for small files, when the filesystem has them.
    private let unnamedFiles: UnnamedFilePool?
    let settings: ServerSettings

    private(set) var stored = 0
    /// Bytes of chunked and delta transfers copied from files already stored instead of received.
    private(set) var reusedBytes: Int64 = 0
    private(set) var failed = 0
    /// Tasks the client never sent (it skipped them: vanished or unreadable files).
    var missing: Int { expected.count }

    private enum Current {
        case receiving(IncomingFile)
        /// The file cannot be stored; its data frames are read and dropped until its end.
        case discarding(FileHeader, received: Int64, FileSyncError)
        /// A chunked or delta transfer.
        case assembling(ChunkAssembly)
    }
    private var current: Current?
    private var pending: [PendingRename] = []
    private var pendingBytes: Int64 = 0
    /// Pending files held open as unnamed files, each a descriptor until the commit.
    private var pendingUnnamed = 0
    /// At most this many unnamed files are held at once (a commit comes first); 0 keeps file frames
    /// in partials, when the open-file limit is too low to hold a useful number.
    private let maxPendingUnnamed: Int
    private let committer: BatchCommitter
    /// The batch being committed, whose results are acknowledged before the next batch starts.
    private var committing: Task<[FileResult], Never>?
    /// Set once the batch being committed is done, so the next may start without waiting.
    private var committed = AtomicFlag()
    private var scratch = ByteBuffer()
    private let decoder = MessageDecoder()

    init(
        folder: ClientFolder, partials: PartialStore, expected: ExpectedFiles, offers: [String: PartialStore.Offer],
        chunkTasks: [String: TransferTask.Kind] = [:], catalog: ChunkCatalog? = nil, codecs: Frame.Flags,
        fileFrames: Bool = false, entries: PathSet? = nil, committer: BatchCommitter, settings: ServerSettings
    ) {
        self.committer = committer
        self.folder = folder
        self.partials = partials
        self.expected = expected
        self.offers = offers
        self.chunkTasks = chunkTasks
        self.catalog = catalog
        self.decompressor = BlockDecompressor(allowed: codecs)
        self.fileFrames = fileFrames
        self.entries = entries
        self.unnamedFiles =
            fileFrames && partials.supportsUnnamedFiles ? UnnamedFilePool(directory: folder.descriptor) : nil
        self.settings = settings
        // Half the open-file limit, leaving room for the connections and everything else, and
        // shared by the batch being committed and the one being filled.
        let openFiles = filesync_raise_open_file_limit(Self.wantedOpenFiles)
        let affordable = openFiles < 0 ? 0 : (openFiles - 512) / 4
        self.maxPendingUnnamed = affordable >= 64 ? min(affordable, settings.commitBatchFiles) : 0
    }

    /// A batch starts as soon as the committer is idle once this many files wait.
    static let eagerBatchFiles = 256

    /// The open-file limit the server asks for (within the hard limit), so that a commit batch of
    /// small files can be held as unnamed files.
    static let wantedOpenFiles = 65_536

    /// Receives until `DONE`, and commits and acknowledges every verified file. On an error, the
    /// verified files are still committed (not acknowledged) before it is rethrown.
    mutating func receive(
        _ messages: inout BackupSession.Messages, context: BackupSession.Context
    ) async throws {
        do {
            try await receiveFiles(&messages, context: context)
        } catch {
            await commitWithoutAcknowledging()
            throw error
        }
    }

    private mutating func receiveFiles(
        _ messages: inout BackupSession.Messages, context: BackupSession.Context
    ) async throws {
        while true {
            guard let frame = try await messages.next() else {
                throw FileSyncError(.connectionClosed, "connection closed during the transfer")
            }
            switch frame.kind {
            case .data:
                try write(frame)
                continue
            case .chunk:
                try writeChunk(frame)
                continue
            case .chunkList:
                guard case .assembling(let assembly) = current else {
                    throw FileSyncError(.unexpectedMessage, "a CHUNK_LIST frame arrived outside a delta transfer")
                }
                let started = ContinuousClock.now
                let journaled = assembly.patch?.journaledBytes
                let need = try assembly.acceptList(frame.payload)
                let looked = ContinuousClock.now
                if let journaled, assembly.patch == nil {
                    context.logger.info(
                        "\(assembly.header.path): \(journaled) bytes were journaled for an in-place patch, but the changes outgrew its limit; it goes on as a fresh copy"
                    )
                }
                try await context.send(.chunkNeed(need))
                assembly.copyStoredChunks()
                context.logger.debug(
                    "chunk round of \(assembly.header.path): lookup \(looked - started), copy \(ContinuousClock.now - looked)"
                )
                continue
            case .file:
                guard fileFrames else {
                    throw FileSyncError(.unexpectedMessage, "a file frame, but fileFrames was not negotiated")
                }
                if let failure = try storeWholeFile(frame) {
                    Self.log(failure, context)
                    try await acknowledge([failure], context: context)
                }
                try await commitIfDue(context: context)
                continue
            case .manifest, .tasks, .ack:
                throw FileSyncError(.unexpectedMessage, "a \(frame.kind) frame arrived during the transfer")
            case .control:
                break
            }
            switch try decoder.decode(frame) {
            case .fileHeader(let header):
                try begin(header)
            case .fileEnd(let end):
                if let result = try finish(end) {
                    if result.succeeded {
                        context.logger.info("\(result.path) patched in place")
                    } else {
                        Self.log(result, context)
                    }
                    try await acknowledge([result], context: context)
                }
                try await commitIfDue(context: context)
            case .fileAbort(let abort):
                let failure = try abandonCurrent(
                    FileSyncError(.aborted, "the client abandoned the file: \(abort.reason)"))
                Self.log(failure, context)
                try await acknowledge([failure], context: context)
            case .done:
                guard current == nil else {
                    throw FileSyncError(.unexpectedMessage, "DONE arrived in the middle of a file")
                }
                try await startCommit(context: context)
                try await finishCommit(context: context)
                return
            case let other:
                throw FileSyncError(.unexpectedMessage, "\(other.kind.rawValue) is not allowed during the transfer")
            }
        }
    }

    // MARK: - One file

    private mutating func begin(_ header: FileHeader) throws {
        guard current == nil else {
            throw FileSyncError(.unexpectedMessage, "FILE_HEADER arrived before the previous file ended")
        }
        let path = try RelativePath(validating: header.path)
        guard expected.remove(header.path) else {
            throw FileSyncError(.unexpectedMessage, "\"\(header.path)\" was not requested or was sent already")
        }
        guard header.size >= 0, header.size <= ProtocolLimits.maxFileSize, header.mode <= 0o7777 else {
            throw FileSyncError(.malformedMessage, "FILE_HEADER for \"\(header.path)\" has an invalid size or mode")
        }
        if let transfer = header.transfer {
            try beginChunked(header, path: path, transfer: transfer)
            return
        }
        let offset = header.offset ?? 0
        var resume: PartialStore.Offer?
        if offset != 0 {
            guard let offer = offers[header.path], offer.offset == offset, offset <= header.size else {
                throw FileSyncError(
                    .unexpectedMessage, "FILE_HEADER offset \(offset) for \"\(header.path)\" was not offered")
            }
            resume = offer
        } else if let declined = offers[header.path] {
            // The client's file did not start like the partial: it is sent whole instead.
            partials.remove(named: declined.name)
        }
        do {
            try checkFreeSpace(for: header.size - offset, path: header.path)
            current = .receiving(
                try IncomingFile(header: header, path: path, resume: resume, store: partials, folder: folder))
        } catch let error as FileSyncError {
            current = .discarding(header, received: offset, error)
        }
    }

    /// Starts a chunked or delta transfer, which must be what the task offered (a client may always
    /// stream a `delta` task as `chunked`).
    private mutating func beginChunked(_ header: FileHeader, path: RelativePath, transfer: TransferTask.Kind) throws {
        guard let catalog, let offered = chunkTasks[header.path],
            transfer == offered || (offered == .delta && transfer == .chunked), (header.offset ?? 0) == 0
        else {
            throw FileSyncError(
                .unexpectedMessage, "FILE_HEADER for \"\(header.path)\" asks for a transfer that was not offered")
        }
        if let stale = offers[header.path] { partials.remove(named: stale.name) }
        do {
            try checkFreeSpace(for: header.size, path: header.path)
            let file = try IncomingFile(
                header: header, path: path, resume: nil, store: partials, folder: folder, hashesContent: false)
            let patch =
                transfer == .delta
                ? InPlacePatch.begin(
                    header: header, path: path, folder: folder, catalog: catalog,
                    stateDirectory: settings.root + "/.filesync/\(folder.id)")
                : nil
            current = .assembling(
                ChunkAssembly(
                    header: header, file: file, transfer: transfer, folder: folder, catalog: catalog, patch: patch))
        } catch let error as FileSyncError {
            current = .assembling(
                ChunkAssembly(
                    header: header, file: nil, failure: error, transfer: transfer, folder: folder, catalog: catalog))
        }
    }

    /// Stores a file frame, the whole file at once (it is complete or not there at all: never
    /// kept as a partial); returns the failure, if any.
    private mutating func storeWholeFile(_ frame: Frame) throws -> FileResult? {
        guard current == nil else {
            throw FileSyncError(.unexpectedMessage, "a file frame arrived before the previous file ended")
        }
        let file = try WholeFile(decoding: frame.payload)
        let header = file.header
        let path = try RelativePath(validating: header.path)
        guard expected.remove(header.path) else {
            throw FileSyncError(.unexpectedMessage, "\"\(header.path)\" was not requested or was sent already")
        }
        if let declined = offers[header.path] { partials.remove(named: declined.name) }
        var content = file.content
        if BlockDecompressor.isCompressed(frame.flags) {
            try decompressor.decompress(content, flags: frame.flags, into: &scratch, maxOutput: Int(header.size))
            content = scratch
        }
        guard content.readableBytes == header.size else {
            throw FileSyncError(
                .sizeMismatch,
                "the file frame for \"\(header.path)\" holds \(content.readableBytes) of \(header.size) bytes")
        }
        do {
            let rename = try content.withUnsafeReadableBytes { bytes in
                guard ChunkHash(of: bytes) == file.sha256 else {
                    throw FileSyncError(
                        .checksumMismatch, "SHA-256 of \"\(header.path)\" is not the one the client sent")
                }
                return try IncomingFile.store(
                    bytes, header: header, path: path, store: partials, folder: folder,
                    unnamed: pendingUnnamed < maxPendingUnnamed, pool: unnamedFiles)
            }
            if rename.descriptor != nil { pendingUnnamed += 1 }
            pending.append(rename)
            pendingBytes += rename.size
            return nil
        } catch let error as FileSyncError {
            failed += 1
            return FileResult(path: header.path, error: ErrorMessage(error))
        }
    }

    private mutating func writeChunk(_ frame: Frame) throws {
        guard case .assembling(let assembly) = current else {
            throw FileSyncError(.unexpectedMessage, "a CHUNK frame arrived outside a chunked or delta transfer")
        }
        var payload = frame.payload
        guard let hash = ChunkHash(reading: &payload), payload.readableBytes > 0 else {
            throw FileSyncError(.malformedFrame, "a CHUNK frame must hold a 32-byte hash and at least one byte")
        }
        if BlockDecompressor.isCompressed(frame.flags) {
            try decompressor.decompress(
                payload, flags: frame.flags, into: &scratch, maxOutput: ProtocolLimits.maxChunkSize)
            payload = scratch
        }
        guard payload.readableBytes <= ProtocolLimits.maxChunkSize else {
            throw FileSyncError(.frameTooLarge, "a chunk of \(payload.readableBytes) bytes exceeds the limit")
        }
        try payload.withUnsafeReadableBytes { try assembly.acceptChunk(hash: hash, content: $0) }
    }

    private mutating func write(_ frame: Frame) throws {
        guard let current else {
            throw FileSyncError(.unexpectedMessage, "a data frame arrived outside a file")
        }
        var payload = frame.payload
        if BlockDecompressor.isCompressed(frame.flags) {
            try decompressor.decompress(
                payload, flags: frame.flags, into: &scratch, maxOutput: ProtocolLimits.maxDataPayload)
            payload = scratch
        }
        switch current {
        case .receiving(let file):
            do {
                try payload.withUnsafeReadableBytes { try file.write($0) }
            } catch let error as FileSyncError where error.code == .storageFailed {
                file.discard(from: partials)
                self.current = .discarding(file.header, received: file.received + Int64(payload.readableBytes), error)
            }
        case .assembling:
            throw FileSyncError(.unexpectedMessage, "a data frame arrived during a chunked transfer")
        case .discarding(let header, let received, let error):
            let total = received + Int64(payload.readableBytes)
            guard total <= header.size else {
                throw FileSyncError(
                    .sizeMismatch, "more data than the \(header.size) bytes announced for \"\(header.path)\"")
            }
            self.current = .discarding(header, received: total, error)
        }
    }

    /// Verifies the current file and queues it for the next commit; returns the failure, if any, or
    /// the success of a file patched in place (durable at once, so acknowledged at once).
    private mutating func finish(_ end: FileEnd) throws -> FileResult? {
        guard let current else { throw FileSyncError(.unexpectedMessage, "FILE_END arrived outside a file") }
        self.current = nil
        switch current {
        case .receiving(let file):
            do {
                var rename = try file.finish(sha256: end.sha256)
                // A resumed file came as plain data: its chunks are read back once the session is over,
                // so that later changes to it travel as deltas like those of any file stored in one go.
                rename.readsBackChunks =
                    catalog != nil && (file.header.offset ?? 0) > 0
                    && rename.size >= ServerSettings.chunkedMinimumSize
                pending.append(rename)
                pendingBytes += rename.size
                return nil
            } catch let error as FileSyncError {
                file.discard(from: partials)
                if error.code == .sizeMismatch { throw error }
                failed += 1
                return FileResult(path: file.header.path, error: ErrorMessage(error))
            }
        case .discarding(let header, let received, let error):
            guard received == header.size else {
                throw FileSyncError(
                    .sizeMismatch, "received \(received) of \(header.size) bytes for \"\(header.path)\"")
            }
            failed += 1
            return FileResult(path: header.path, error: ErrorMessage(error))
        case .assembling(let assembly):
            do {
                let outcome = try assembly.finish(end)
                reusedBytes += assembly.reusedBytes
                switch outcome {
                case .pending(let rename):
                    pending.append(rename)
                    pendingBytes += rename.size
                    return nil
                case .patched:
                    assembly.file?.discard(from: partials)
                    stored += 1
                    return FileResult(path: assembly.header.path)
                }
            } catch let error as FileSyncError {
                assembly.discardPatch()
                assembly.file?.discard(from: partials)
                if error.code == .sizeMismatch { throw error }
                failed += 1
                return FileResult(path: assembly.header.path, error: ErrorMessage(error))
            }
        }
    }

    private mutating func abandonCurrent(_ error: FileSyncError) throws -> FileResult {
        guard let current else { throw FileSyncError(.unexpectedMessage, "FILE_ABORT arrived outside a file") }
        self.current = nil
        failed += 1
        switch current {
        case .receiving(let file):
            file.discard(from: partials)
            return FileResult(path: file.header.path, error: ErrorMessage(error))
        case .discarding(let header, _, _):
            return FileResult(path: header.path, error: ErrorMessage(error))
        case .assembling(let assembly):
            assembly.discardPatch()
            assembly.file?.discard(from: partials)
            return FileResult(path: assembly.header.path, error: ErrorMessage(error))
        }
    }

    private func checkFreeSpace(for bytes: Int64, path: String) throws {
        var info = statvfs()
        guard fstatvfs(partials.descriptor, &info) == 0 else { return }
        let free = Int64(info.f_bavail) * Int64(info.f_frsize)
        guard bytes <= free else {
            throw FileSyncError(
                .storageFailed, "not enough space on the server for \"\(path)\" (\(bytes) bytes needed, \(free) free)")
        }
    }

    // MARK: - Commit

    private static func log(_ failure: FileResult, _ context: BackupSession.Context) {
        context.logger.warning("\(failure.path) failed: \(failure.error?.message ?? "") [\(failure.error?.code ?? "")]")
    }

    /// Commits when the batch is full (by files, bytes or unnamed files held open), or when the
    /// committer is idle and at least ``eagerBatchFiles`` files wait: batches then follow the pace
    /// of the disk, and what is left to commit after the last file stays small.
    private mutating func commitIfDue(context: BackupSession.Context) async throws {
        if pending.count >= settings.commitBatchFiles || pendingBytes >= settings.commitBatchBytes
            || (maxPendingUnnamed > 0 && pendingUnnamed >= maxPendingUnnamed)
            || (pending.count >= Self.eagerBatchFiles && (committing == nil || committed.isSet))
        {
            try await startCommit(context: context)
        }
    }

    /// Hands the pending files to the committer, once the batch before has been committed and
    /// acknowledged; receiving goes on meanwhile.
    private mutating func startCommit(context: BackupSession.Context) async throws {
        try await finishCommit(context: context)
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = []
        pendingBytes = 0
        pendingUnnamed = 0
        let (committer, done) = (self.committer, AtomicFlag())
        committed = done
        committing = Task {
            let results = await committer.commit(batch)
            done.set()
            return results
        }
    }

    /// Waits for the batch being committed and acknowledges it: one `FILE_ACK`.
    private mutating func finishCommit(context: BackupSession.Context) async throws {
        guard let task = committing else { return }
        committing = nil
        let started = ContinuousClock.now
        let results = await task.value
        tally(results)
        context.logger.debug("committed \(results.count) file(s), waited \(ContinuousClock.now - started)")
        for failure in results where !failure.succeeded { Self.log(failure, context) }
        try await acknowledge(results, context: context)
    }

    /// Sends the results of some entries (files, or folders that could not be made): one
    /// `FILE_ACK`, or with binary tasks (``entries`` set), ack frames that name each by its
    /// manifest entry.
    func acknowledge(_ results: [FileResult], context: BackupSession.Context) async throws {
        guard let entries else {
            try await context.send(.fileAck(FileAck(files: results)))
            return
        }
        let numbered = try results.map { result in
            guard let entry = entries.index(of: result.path) else {
                throw FileSyncError(.internalError, "\"\(result.path)\" was received but is not in the manifest")
            }
            return (entry: entry, result: result)
        }
        try await context.outbound.write(
            contentsOf: BinaryAcks.acks(for: numbered).map { Frame(kind: .ack, payload: BinaryAcks.encode($0)) })
    }

    /// Commits everything verified, without acknowledging: the session is ending on an error.
    private mutating func commitWithoutAcknowledging() async {
        if let task = committing {
            committing = nil
            tally(await task.value)
        }
        let batch = pending
        pending = []
        tally(await committer.commit(batch))
    }

    private mutating func tally(_ results: [FileResult]) {
        for result in results {
            if result.succeeded { stored += 1 } else { failed += 1 }
        }
    }

    /// When the session breaks: keeps the file in progress as a partial to resume from. (The
    /// verified files were committed by ``receive(_:context:)`` on its way out.)
    mutating func abandon() {
        unnamedFiles?.close()
        switch current {
        case .receiving(let file): file.keep()
        case .assembling(let assembly):
            assembly.discardPatch()
            assembly.file?.keep()
        case .discarding, nil: break
        }
        current = nil
    }
}
