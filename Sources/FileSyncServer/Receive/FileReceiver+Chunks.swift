import FileSyncCore
import Logging
import NIOCore

extension FileReceiver {
    /// Starts a chunked or delta transfer; one that cannot be stored still reads its frames, and
    /// fails at its end.
    mutating func openChunked(_ header: FileHeader, path: RelativePath, transfer: TransferTask.Kind) {
        guard let catalog = storage.catalog else { return }
        let folder = storage.folder
        do {
            try StorageSpace.check(header.size, for: header.path, on: storage.partials.descriptor)
            let file = try IncomingFile(
                header: header, path: path, resume: nil, store: storage.partials, folder: folder, hashesContent: false,
                hashesWhole: !HistoryChunking.namesByChunks(size: header.size, cutsLikeClient: storage.cutsLikeClient))
            let patch =
                transfer == .delta && storage.patchesInPlace
                ? InPlacePatch.begin(
                    header: header, path: path, folder: folder, catalog: catalog, state: storage.state,
                    preserver: storage.preserver,
                    historyCut: storage.cutsLikeClient && HistoryChunking.cutsLikeClients)
                : nil
            assembly = ChunkAssembly(
                header: header, file: file, transfer: transfer, folder: folder, catalog: catalog, patch: patch)
        } catch {
            let failure = error as? FileSyncError ?? FileSyncError(.storageFailed, "\(error)")
            assembly = ChunkAssembly(
                header: header, file: nil, failure: failure, transfer: transfer, folder: folder, catalog: catalog)
        }
    }

    /// A `CHUNK_LIST`: answers with the chunks to send, then copies those already stored.
    mutating func acceptChunkList(_ frame: Frame, context: SessionContext) async throws {
        guard let assembly else { throw FileSyncError(.internalError, "no chunked transfer in progress") }
        let started = ContinuousClock.now
        let journaled = assembly.patch?.journaledBytes
        let need = try assembly.acceptList(frame.payload)
        let looked = ContinuousClock.now
        if let journaled, assembly.patch == nil {
            // The e2e tests read this line, the journaled bytes included, from the log.
            context.logger.info(
                "the changes outgrew the in-place patch's limit; it goes on as a fresh copy",
                metadata: ["path": "\(assembly.header.path)", "journaled": "\(journaled)"])
        }
        try await context.send(.chunkNeed(need))
        assembly.copyStoredChunks()
        context.logger.debug(
            "chunk round",
            metadata: [
                "path": "\(assembly.header.path)", "lookup": "\(looked - started)",
                "copy": "\(ContinuousClock.now - looked)",
            ])
    }

    /// Verifies the current chunked or delta file: queued for the next commit, patched in place
    /// (durable at once, so acknowledged at once), or failed.
    mutating func finishAssembly(_ end: FileEnd, context: SessionContext) throws -> [Event] {
        guard let assembly else { throw FileSyncError(.internalError, "no chunked transfer to finish") }
        self.assembly = nil
        do {
            let outcome = try assembly.finish(end)
            reusedBytes += assembly.reusedBytes
            switch outcome {
            case .pending(var rename):
                // A chunkerV1 client's chunks are the history's: the catalog says so, and the file's
                // snapshot takes them, with the SHA-256 if one was computed as it was written.
                rename.historyCut = storage.cutsLikeClient && HistoryChunking.cutsLikeClients && rename.chunks != nil
                pending.append(rename)
                return [.queued(bytes: rename.size, unnamed: false)]
            case .patched:
                assembly.file?.discard(from: storage.partials)
                context.logger.info("patched in place", metadata: ["path": "\(assembly.header.path)"])
                return [.patched(FileResult(path: assembly.header.path))]
            }
        } catch let error as FileSyncError {
            assembly.discardPatch()
            assembly.file?.discard(from: storage.partials)
            if error.code == .sizeMismatch { throw error }
            return [.failed(FileResult(path: assembly.header.path, error: ErrorMessage(error)))]
        }
    }
}
