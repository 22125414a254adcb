import FileSyncCore
import FileSyncSystem

/// Commits batches of verified files while the session goes on receiving the next ones: one sync,
/// every file renamed (or linked) into place, a second sync. Syncing is mostly waiting for the
/// disk, so with the commit on its own the connection never stalls behind it.
///
/// It has its own handles on the client's folder and partial folder, apart from the receiver's,
/// so the two never share a directory cache. Batches must be committed one at a time, in order.
actor BatchCommitter {
    private let folder: ClientFolder
    private let partials: PartialStore
    private let catalog: ChunkCatalog?
    private let root: String
    private let id: ClientID
    /// Resumed files committed this session, whose chunks are read back once it is over.
    private var resumedFiles: [CatalogReadBack.File] = []
    /// The small files committed this session, for its snapshot.
    private(set) var storedDigests = StoredFileDigests()

    /// Keeps the old version of each file a batch replaces, for the snapshots that need it.
    private let preserver: Preserver?

    init(root: String, id: ClientID, catalog: ChunkCatalog?, preserver: Preserver? = nil) throws {
        self.preserver = preserver
        folder = try ClientFolder(root: root, id: id)
        partials = try ClientStateDirectory(root: root, id: id).openPartials()
        self.catalog = catalog
        self.root = root
        self.id = id
    }

    /// What is left to catalog once the session is over: the resumed files committed, if any.
    func readBack() -> CatalogReadBack? {
        guard let catalog, !resumedFiles.isEmpty else { return nil }
        return CatalogReadBack(root: root, id: id, catalog: catalog, files: resumedFiles)
    }

    /// Commits `batch` and returns one result per file, in order.
    func commit(_ batch: [PendingRename]) -> [FileResult] {
        guard !batch.isEmpty else { return [] }
        // A few files: sync each, then their folders, so that unrelated data waiting to be written
        // elsewhere on the filesystem does not hold the commit up. Many files: one syncfs each way.
        let fewFiles = batch.count <= CommitPolicy.filesSyncedOneByOne
        do {
            try preserveOldVersions(of: batch)
            if fewFiles {
                for rename in batch { try rename.synchronize(in: partials) }
            } else {
                try folder.synchronize()
            }
        } catch {
            let failure = error as? FileSyncError ?? FileSyncError(.storageFailed, "\(error)")
            for rename in batch { rename.discard(from: partials) }
            return batch.map { FileResult(path: $0.path.string, error: ErrorMessage(failure)) }
        }
        var results: [FileResult] = []
        results.reserveCapacity(batch.count)
        var placed: [(path: String, status: FileStatus, sha256: ChunkHash)] = []
        for rename in batch {
            do {
                let status = try rename.rename(from: partials, into: folder)
                let ctimeNs = status?.ctimeNs
                results.append(FileResult(path: rename.path.string))
                if let status, let sha256 = rename.sha256 { placed.append((rename.path.string, status, sha256)) }
                if rename.readsBackChunks, let ctimeNs {
                    resumedFiles.append(CatalogReadBack.File(rename: rename, ctimeNs: ctimeNs))
                }
                if let chunks = rename.chunks {
                    try? catalog?.record(
                        path: rename.path.string, size: rename.size, mtimeNs: rename.mtimeNs, inode: rename.inode,
                        ctimeNs: ctimeNs ?? 0, chunks: chunks, sha256: rename.sha256,
                        historyCut: rename.historyCut)
                }
            } catch {
                let failure = error as? FileSyncError ?? FileSyncError(.storageFailed, "\(error)")
                results.append(FileResult(path: rename.path.string, error: ErrorMessage(failure)))
            }
        }
        let failures = unsynced(batch, fewFiles: fewFiles)
        for file in placed where failures[file.path] == nil { storedDigests.note(file.status, sha256: file.sha256) }
        guard !failures.isEmpty else { return results }
        return results.map { result in
            guard result.error == nil, let failure = failures[result.path] else { return result }
            return FileResult(path: result.path, error: ErrorMessage(failure))
        }
    }

    /// Makes the renames durable, with the names of the folders created for them: each destination
    /// folder for a few files, else `syncfs`. A rename that could not be made durable is not
    /// acknowledged as stored (Protocol.md §5.5): the failures, by path.
    private func unsynced(_ batch: [PendingRename], fewFiles: Bool) -> [String: FileSyncError] {
        func reason(_ error: any Error) -> FileSyncError {
            error as? FileSyncError ?? FileSyncError(.storageFailed, "\(error)")
        }
        guard fewFiles else {
            do {
                try folder.synchronize()
                return [:]
            } catch {
                let failure = reason(error)
                return Dictionary(batch.map { ($0.path.string, failure) }, uniquingKeysWith: { first, _ in first })
            }
        }
        var failures: [String: FileSyncError] = [:]
        let newFolders = Result { try folder.synchronizeNewFolders() }
        for (components, renames) in Dictionary(grouping: batch, by: \.parentComponents) {
            do {
                try newFolders.get()
                try folder.synchronizeDirectory(components)
            } catch {
                for rename in renames { failures[rename.path.string] = reason(error) }
            }
        }
        return failures
    }

    /// Packs, durably, what the old versions of `batch`'s files hold that their new versions do not
    /// (Protocol.md §11): after this, renaming over them loses nothing a snapshot needs.
    private func preserveOldVersions(of batch: [PendingRename]) throws {
        guard let preserver else { return }
        let requests = batch.map { rename in
            let keeping =
                HistoryChunking.cutsLikeClients ? Set((rename.chunks ?? []).map(\.hash)) : Set<ChunkHash>()
            return Preserver.Request(relativePath: rename.path.string, keeping: keeping)
        }
        try preserver.preserve(requests)
    }
}
