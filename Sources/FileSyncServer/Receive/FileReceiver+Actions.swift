import FileSyncCore
import Logging
import NIOCore

extension FileReceiver {
    /// Performs one action of the state machine and returns the events it led to.
    mutating func perform(_ action: Action, _ input: Input, _ commits: inout Commits) async throws -> [Event] {
        switch action {
        case .open(let header, let path, let resume): return open(header, path: path, resume: resume)
        case .openChunked(let header, let path, let transfer):
            openChunked(header, path: path, transfer: transfer)
            return []
        case .removePartial(let name):
            storage.partials.remove(named: name)
            return []
        case .decodeData:
            let content = try payloads.data(input.frame)
            decodedData = content
            return [.dataDecoded(bytes: content.readableBytes)]
        case .write: return try write()
        case .acceptChunkList:
            try await acceptChunkList(input.frame, context: input.context)
            return []
        case .acceptChunk:
            let (hash, content) = try payloads.chunk(input.frame)
            try content.withUnsafeReadableBytes { try assembly?.acceptChunk(hash: hash, content: $0) }
            return []
        case .decodeWholeFile:
            let decoded = try WholeFile(decoding: input.frame.payload)
            wholeFile = decoded
            return [.wholeFile(decoded.header)]
        case .storeWholeFile(_, let path, let unnamed): return try storeWholeFile(input.frame, path, unnamed: unnamed)
        case .finishFile: return try finishFile(try fileEnd(input))
        case .finishAssembly: return try finishAssembly(try fileEnd(input), context: input.context)
        case .abandonFile:
            abandonFile()
            return []
        case .acknowledge(let results):
            for failure in results where !failure.succeeded { Self.log(failure, input.context) }
            try await acknowledge(results, context: input.context)
            return []
        case .awaitCommit: return try await awaitCommit(&commits, context: input.context)
        case .commitPending: return commitPending(&commits)
        }
    }

    private func fileEnd(_ input: Input) throws -> FileEnd {
        guard let end = input.end else { throw FileSyncError(.internalError, "a file ended without FILE_END") }
        return end
    }

    static func log(_ failure: FileResult, _ context: SessionContext) {
        context.logger.warning(
            "file failed",
            metadata: [
                "path": "\(failure.path)", "error": "\(failure.error?.message ?? "")",
                "code": "\(failure.error?.code ?? "")",
            ])
    }

    // MARK: - Plain transfers

    private mutating func open(_ header: FileHeader, path: RelativePath, resume: PartialStore.Offer?) -> [Event] {
        do {
            try StorageSpace.check(
                header.size - (resume?.offset ?? 0), for: header.path, on: storage.partials.descriptor)
            file = try IncomingFile(
                header: header, path: path, resume: resume, store: storage.partials, folder: storage.folder)
            return []
        } catch let error as FileSyncError {
            return [.storageFailed(error)]
        } catch {
            return [.storageFailed(FileSyncError(.storageFailed, "\(error)"))]
        }
    }

    private mutating func write() throws -> [Event] {
        guard let file, let content = decodedData else { throw FileSyncError(.internalError, "no file to write to") }
        decodedData = nil
        do {
            try file.write(content)
        } catch let error as FileSyncError where error.code == .storageFailed {
            file.discard(from: storage.partials)
            self.file = nil
            return [.storageFailed(error)]
        }
        return []
    }

    /// Verifies the current file and queues it for the next commit, or fails it.
    private mutating func finishFile(_ end: FileEnd) throws -> [Event] {
        guard let file else { throw FileSyncError(.internalError, "no file to finish") }
        self.file = nil
        do {
            var rename = try file.finish(sha256: end.sha256)
            // A resumed file came as plain data: for a client that cuts with the v1 chunker, its
            // chunks are read back once the session is over, so that later changes to it travel as
            // deltas like those of any file stored in one go. Another client's boundaries cannot
            // be recomputed: its next change of the file sends the chunks the catalog lacks.
            rename.readsBackChunks =
                storage.cutsLikeClient && storage.catalog != nil && (file.header.offset ?? 0) > 0
                && rename.size >= ServerSettings.chunkedMinimumSize
            pending.append(rename)
            return [.queued(bytes: rename.size, unnamed: false)]
        } catch let error as FileSyncError {
            file.discard(from: storage.partials)
            if error.code == .sizeMismatch { throw error }
            return [.failed(FileResult(path: file.header.path, error: ErrorMessage(error)))]
        }
    }

    private mutating func abandonFile() {
        file?.discard(from: storage.partials)
        assembly?.discardPatch()
        assembly?.file?.discard(from: storage.partials)
        (file, assembly) = (nil, nil)
    }

    // MARK: - File frames

    /// Stores a file frame, the whole file at once (it is complete or not there at all: never
    /// kept as a partial).
    private mutating func storeWholeFile(_ frame: Frame, _ path: RelativePath, unnamed: Bool) throws -> [Event] {
        guard let file = wholeFile else { throw FileSyncError(.internalError, "no file frame to store") }
        wholeFile = nil
        let header = file.header
        let content = try payloads.wholeFile(file, flags: frame.flags)
        do {
            let rename = try content.withUnsafeReadableBytes { bytes in
                guard ChunkHash(of: bytes) == file.sha256 else {
                    throw FileSyncError(
                        .checksumMismatch, "SHA-256 of \"\(header.path)\" is not the one the client sent")
                }
                return try IncomingFile.store(
                    bytes, sha256: file.sha256, header: header, path: path, store: storage.partials,
                    folder: storage.folder,
                    unnamed: unnamed, pool: unnamedFiles)
            }
            pending.append(rename)
            return [.queued(bytes: rename.size, unnamed: rename.descriptor != nil)]
        } catch let error as FileSyncError {
            return [.failed(FileResult(path: header.path, error: ErrorMessage(error)))]
        }
    }

    // MARK: - Commit

    /// Waits for the batch being committed.
    private mutating func awaitCommit(_ commits: inout Commits, context: SessionContext) async throws -> [Event] {
        let started = ContinuousClock.now
        guard let results = try await commits.next() else { return [] }
        context.logger.debug(
            "batch committed", metadata: ["files": "\(results.count)", "waited": "\(ContinuousClock.now - started)"])
        return [.committed(results)]
    }

    /// Hands the pending files to the committer; receiving goes on meanwhile.
    private mutating func commitPending(_ commits: inout Commits) -> [Event] {
        let batch = pending
        pending = []
        let (committer, done) = (storage.committer, AtomicFlag())
        committed = done
        // A child task: on the storage threads, like the session (the commit syncs and renames).
        commits.addTask {
            let results = await committer.commit(batch)
            done.set()
            return results
        }
        return [.commitStarted]
    }
}
