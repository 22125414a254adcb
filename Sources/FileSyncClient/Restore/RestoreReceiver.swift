import FileSyncCore
import NIOCore

/// Consumes the server's frames after `RESTORE_WANT` (Protocol.md §11.3): `FILE_HEADER`, data
/// frames (decompressed when flagged), chunk frames, `FILE_END`, `FILE_ABORT`, `RESTORE_END`,
/// checked by a ``RestoreStateMachine`` and written by a ``RestoreFileWriter`` per file. A failure
/// of one file (disk, checksum) fails that file only; its remaining frames are checked and dropped.
public final class RestoreReceiver {
    private let folder: RestoreFolder
    private let entries: [RestoreEntry]
    private let paths: [RelativePath]
    private let plan: RestorePlan
    private var machine: RestoreStateMachine
    private let decompressor: BlockDecompressor
    private var decoded = ByteBuffer()
    private let messages = MessageDecoder()
    private var journal: RestoreJournal?
    private var writer: RestoreFileWriter?
    private let batch: RestoreCommitBatch
    /// The reason the current file fails, once it does.
    private var failure: FileSyncError?
    public private(set) var summary = RestoreSummary()

    /// - Parameters:
    ///   - entries: the validated `RESTORE_LIST` entries, with `paths` their validated paths.
    ///   - codecs: the compression flags negotiated (`.deflated`, `.zstd`).
    public init(
        folder: RestoreFolder, entries: [RestoreEntry], paths: [RelativePath], plan: RestorePlan, codecs: Frame.Flags
    ) {
        self.folder = folder
        self.entries = entries
        self.paths = paths
        self.plan = plan
        machine = RestoreStateMachine(entries: entries, wants: plan.wants)
        decompressor = BlockDecompressor(allowed: codecs)
        batch = RestoreCommitBatch(folder: folder)
        summary.listed = entries.count
        summary.skipped = plan.skipped.count
        summary.failed = plan.failed
    }

    /// Handles one frame; returns `true` after `RESTORE_END`.
    ///
    /// - Throws: a session error (the server broke §11.3, or sent `ERROR`: ``RestoreFailure``).
    public func receive(_ frame: Frame) throws -> Bool {
        switch frame.kind {
        case .control: return try receive(messages.decode(frame))
        case .data:
            try decode(frame)
            try machine.data(count: decoded.readableBytes)
            summary.bytesReceived += Int64(decoded.readableBytes)
            perform { writer in try writer.write(decoded) }
        case .chunk:
            var payload = frame.payload
            guard let hash = ChunkHash(reading: &payload) else {
                throw FileSyncError(.malformedFrame, "a chunk frame shorter than its hash")
            }
            try decode(Frame(kind: .chunk, flags: frame.flags, payload: payload))
            let index = try machine.chunk(hash: hash, length: decoded.readableBytes)
            summary.bytesReceived += Int64(decoded.readableBytes)
            perform { writer in
                try decoded.withUnsafeReadableBytes { bytes in
                    guard ChunkHash(of: bytes) == hash else {
                        throw FileSyncError(
                            .checksumMismatch, "chunk \(index) of \"\(writer.path)\" does not match its hash")
                    }
                    try writer.writeChunk(index, bytes)
                }
            }
        default:
            throw FileSyncError(.unexpectedMessage, "a frame of kind \(frame.kind) in a restore")
        }
        return false
    }

    private func receive(_ message: Message) throws -> Bool {
        switch message {
        case .fileHeader(let header):
            let position = try machine.header(header)
            begin(plan.wants[position])
        case .fileEnd(let end):
            let position = try machine.end()
            if failure == nil, end.sha256 != entries[plan.wants[position].entry].sha256 {
                failure = FileSyncError(.checksumMismatch, "the server's FILE_END names other content than its list")
            }
            var checked: RestoreCommitBatch.Pending?
            perform { checked = try $0.finish(serial: position) }
            if let checked { batch.add(checked) }
            close(position)
            if batch.isFull { commitChecked() }
        case .fileAbort(let abort):
            let position = try machine.abort()
            if failure == nil { failure = FileSyncError(.aborted, "the server could not send it: \(abort.reason)") }
            close(position)
        case .restoreEnd:
            try machine.finish()
            commitChecked()
            journal?.finish()
            journal = nil
            return true
        case .error(let error):
            throw RestoreFailure.refused(error)
        default:
            throw FileSyncError(.unexpectedMessage, "\(message.kind.rawValue) is not allowed while files are restored")
        }
        return false
    }

    /// Opens the file of `want`; a failure to do so fails the file (its frames are then dropped).
    private func begin(_ want: RestoreWant.File) {
        failure = nil
        do {
            if journal == nil { journal = try RestoreJournal(folder: folder) }
            writer = try RestoreFileWriter(
                folder: folder, entry: entries[want.entry], path: paths[want.entry], offset: want.offset,
                localChunks: plan.localChunks[want.entry])
        } catch {
            failure = Self.fileError(error)
        }
    }

    /// Runs `body` on the current file unless it failed already; an error fails the file.
    private func perform(_ body: (RestoreFileWriter) throws -> Void) {
        guard failure == nil, let writer else { return }
        do {
            try body(writer)
        } catch {
            failure = Self.fileError(error)
        }
    }

    /// Records the failure of the file at `position`, if it failed; a checked file is counted when
    /// its batch is committed.
    private func close(_ position: Int) {
        let entry = entries[plan.wants[position].entry]
        if let failure { summary.failed.append(FileResult(path: entry.path, error: ErrorMessage(failure))) }
        writer = nil
        failure = nil
    }

    /// Puts the checked files in place (Protocol.md §11.4): after the last file, when a batch is
    /// full, and when the session is cut, so that the next run does not ask for them again.
    public func commitChecked() {
        guard let journal else { return }
        let outcome = batch.commit(journal: journal)
        summary.restored += outcome.restored
        summary.bytesReused += outcome.bytesReused
        summary.failed += outcome.failed
    }

    private func decode(_ frame: Frame) throws {
        if BlockDecompressor.isCompressed(frame.flags) {
            try decompressor.decompress(
                frame.payload, flags: frame.flags, into: &decoded, maxOutput: ProtocolLimits.maxDataPayload)
        } else {
            decoded = frame.payload
        }
        guard decoded.readableBytes <= ProtocolLimits.maxDataPayload else {
            throw FileSyncError(.frameTooLarge, "a frame of more than 1 MiB of content")
        }
    }

    private static func fileError(_ error: any Error) -> FileSyncError {
        error as? FileSyncError ?? FileSyncError(.storageFailed, "\(error)")
    }
}
