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
    /// Tasks not yet sent by the client.
    private(set) var expected: Set<String>
    let deflate: Bool
    let settings: ServerSettings

    private(set) var stored = 0
    private(set) var failed = 0
    /// Tasks the client never sent (it skipped them: vanished or unreadable files).
    var missing: Int { expected.count }

    private enum Current {
        case receiving(IncomingFile)
        /// The file cannot be stored; its data frames are read and dropped until its end.
        case discarding(FileHeader, received: Int64, FileSyncError)
    }
    private var current: Current?
    private var pending: [PendingRename] = []
    private var pendingBytes: Int64 = 0
    private var inflater: Inflater?
    private var scratch = ByteBuffer()
    private let decoder = MessageDecoder()

    init(folder: ClientFolder, expected: Set<String>, deflate: Bool, settings: ServerSettings) {
        self.folder = folder
        self.expected = expected
        self.deflate = deflate
        self.settings = settings
    }

    mutating func receive(
        _ messages: inout BackupSession.Messages, context: BackupSession.Context
    ) async throws {
        while true {
            guard let frame = try await messages.next() else {
                throw FileSyncError(.connectionClosed, "connection closed during the transfer")
            }
            if frame.kind == .data {
                try write(frame)
                continue
            }
            switch try decoder.decode(frame) {
            case .fileHeader(let header):
                try begin(header)
            case .fileEnd(let end):
                if let failure = try finish(end) {
                    try await context.send(.fileAck(FileAck(files: [failure])))
                }
                if pending.count >= settings.commitBatchFiles || pendingBytes >= settings.commitBatchBytes {
                    try await commit(context: context)
                }
            case .fileAbort(let abort):
                let failure = try abandonCurrent(
                    FileSyncError(.aborted, "the client abandoned the file: \(abort.reason)"))
                try await context.send(.fileAck(FileAck(files: [failure])))
            case .done:
                guard current == nil else {
                    throw FileSyncError(.unexpectedMessage, "DONE arrived in the middle of a file")
                }
                try await commit(context: context)
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
        guard expected.remove(header.path) != nil else {
            throw FileSyncError(.unexpectedMessage, "\"\(header.path)\" was not requested or was sent already")
        }
        guard header.size >= 0, header.size <= ProtocolLimits.maxFileSize, header.mode <= 0o7777 else {
            throw FileSyncError(.malformedMessage, "FILE_HEADER for \"\(header.path)\" has an invalid size or mode")
        }
        do {
            try checkFreeSpace(for: header)
            current = .receiving(try IncomingFile(header: header, path: path, in: folder))
        } catch let error as FileSyncError {
            current = .discarding(header, received: 0, error)
        }
    }

    private mutating func write(_ frame: Frame) throws {
        guard let current else {
            throw FileSyncError(.unexpectedMessage, "a data frame arrived outside a file")
        }
        var payload = frame.payload
        if frame.flags.contains(.deflated) {
            guard deflate else {
                throw FileSyncError(.malformedFrame, "compressed data frame, but deflate was not negotiated")
            }
            if inflater == nil { inflater = try Inflater() }
            scratch.clear()
            try inflater!.decompress(payload, into: &scratch, maxOutput: ProtocolLimits.maxDataPayload)
            payload = scratch
        }
        switch current {
        case .receiving(let file):
            do {
                try payload.withUnsafeReadableBytes { try file.write($0) }
            } catch let error as FileSyncError where error.code == .storageFailed {
                file.discard(in: folder)
                self.current = .discarding(file.header, received: file.received + Int64(payload.readableBytes), error)
            }
        case .discarding(let header, let received, let error):
            let total = received + Int64(payload.readableBytes)
            guard total <= header.size else {
                throw FileSyncError(
                    .sizeMismatch, "more data than the \(header.size) bytes announced for \"\(header.path)\"")
            }
            self.current = .discarding(header, received: total, error)
        }
    }

    /// Verifies the current file and queues it for the next commit; returns the failure, if any.
    private mutating func finish(_ end: FileEnd) throws -> FileResult? {
        guard let current else { throw FileSyncError(.unexpectedMessage, "FILE_END arrived outside a file") }
        self.current = nil
        switch current {
        case .receiving(let file):
            do {
                let rename = try file.finish(sha256: end.sha256)
                pending.append(rename)
                pendingBytes += rename.size
                return nil
            } catch let error as FileSyncError {
                file.discard(in: folder)
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
        }
    }

    private mutating func abandonCurrent(_ error: FileSyncError) throws -> FileResult {
        guard let current else { throw FileSyncError(.unexpectedMessage, "FILE_ABORT arrived outside a file") }
        self.current = nil
        failed += 1
        switch current {
        case .receiving(let file):
            file.discard(in: folder)
            return FileResult(path: file.header.path, error: ErrorMessage(error))
        case .discarding(let header, _, _):
            return FileResult(path: header.path, error: ErrorMessage(error))
        }
    }

    private func checkFreeSpace(for header: FileHeader) throws {
        var info = statvfs()
        guard fstatvfs(folder.descriptor, &info) == 0 else { return }
        let free = Int64(info.f_bavail) * Int64(info.f_frsize)
        guard header.size <= free else {
            throw FileSyncError(
                .storageFailed,
                "not enough space on the server for \"\(header.path)\" (\(header.size) bytes, \(free) free)")
        }
    }

    // MARK: - Commit

    /// Syncs, renames every verified file into place, syncs again, and acknowledges them.
    private mutating func commit(context: BackupSession.Context) async throws {
        let results = commitPending()
        guard !results.isEmpty else { return }
        try await context.send(.fileAck(FileAck(files: results)))
    }

    private mutating func commitPending() -> [FileResult] {
        guard !pending.isEmpty else { return [] }
        let batch = pending
        pending = []
        pendingBytes = 0
        do {
            try folder.synchronize()
        } catch {
            let failure = error as? FileSyncError ?? FileSyncError(.storageFailed, "\(error)")
            for rename in batch { rename.discard(in: folder) }
            failed += batch.count
            return batch.map { FileResult(path: $0.path.string, error: ErrorMessage(failure)) }
        }
        var results: [FileResult] = []
        results.reserveCapacity(batch.count)
        for rename in batch {
            do {
                try rename.rename(in: folder)
                stored += 1
                results.append(FileResult(path: rename.path.string))
            } catch let error as FileSyncError {
                failed += 1
                results.append(FileResult(path: rename.path.string, error: ErrorMessage(error)))
            } catch {}
        }
        try? folder.synchronize()
        return results
    }

    /// When the session breaks: drops the file in progress and still commits the verified ones.
    mutating func abandon() {
        if case .receiving(let file) = current { file.discard(in: folder) }
        current = nil
        _ = commitPending()
    }
}
