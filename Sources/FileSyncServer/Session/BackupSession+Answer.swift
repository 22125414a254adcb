import FileSyncCore
import FileSyncSystem

extension BackupSession {
    /// How the tasks of each manifest part are chosen beyond the plan (Protocol.md §5.3, §6.7): a
    /// `resume` task for a file whose partial the server holds, a `chunked` or `delta` task for a large
    /// file. Kept across the parts of one manifest.
    struct Answer {
        let partials: PartialStore
        /// The names of the partials held when the session began.
        let held: Set<String>
        let resumes: Bool
        let chunks: Bool
        let state: ClientStateDirectory
        /// Whether the tasks go out as tasks frames.
        let binaryTasks: Bool
        /// Whether the tasks frames of each manifest part go out as soon as it is planned.
        let streamsTasks: Bool
        /// Whether the client cuts files with the v1 chunker (`chunkerV1`): the server may then cut
        /// a stored copy itself and find the chunks the client will list.
        var cutsLikeClient = false
        /// The partial offered for each `resume` task so far.
        private(set) var offers: [String: PartialStore.Offer] = [:]
        /// The kind of each `chunked` or `delta` task so far.
        private(set) var chunkTasks: [String: TransferTask.Kind] = [:]
        /// Opened for the first large file.
        var catalog: ChunkCatalog?
        /// What a type change may replace (`metadata` in force; folders only with mirrorDeletions).
        var typeChanges = SyncPlan.TypeChanges.refused
        /// Whether entries carry extended attributes (`xattrs` in force).
        var xattrs = false
        /// Whether the manifest may hold FIFOs, sockets and devices (`specials` in force).
        var specials = false
        /// Whether the manifest may hold hard links (`hardlinks` in force).
        var hardlinks = false
        /// Stored files asked for whatever their size and mtime say (``HardLinkAmbiguity``).
        var resend: Set<String> = []
        /// Keeps what a type change replaces restorable, when the server keeps history.
        var preserver: Preserver?
        /// Archive mode with history: a folder in the way of another type is removed only when the
        /// latest snapshot holds it as it is.
        var foldersNeedSnapshot = false

        init(
            partials: PartialStore, resumes: Bool, chunks: Bool, state: ClientStateDirectory, binaryTasks: Bool,
            streamsTasks: Bool
        ) {
            self.partials = partials
            self.held = Set(partials.names())
            self.resumes = resumes
            self.chunks = chunks
            self.state = state
            self.binaryTasks = binaryTasks
            self.streamsTasks = streamsTasks
        }

        /// Whether ``offer(_:)`` may hash partials (to offer resumes).
        var offersResumes: Bool { resumes && !held.isEmpty }

        /// Sets the kind of the tasks of `plan`, one manifest part's.
        mutating func offer(_ plan: inout SyncPlan, folder: ClientFolder) throws {
            offerResumes(&plan)
            try offerChunks(&plan)
            try offerTouched(&plan, folder: folder)
        }

        /// Turns tasks whose partial the server holds into `resume` tasks (for clients that can resume).
        /// The other partials are deleted once the whole manifest is planned.
        private mutating func offerResumes(_ plan: inout SyncPlan) {
            guard resumes && !held.isEmpty else { return }
            for index in plan.tasks.indices {
                let version = plan.versions[index]
                let entry = ManifestEntry(
                    path: plan.tasks.path(at: index), type: .file, size: version.size, mtimeNs: version.mtimeNs, mode: 0
                )
                guard held.contains(PartialStore.name(for: entry.path, size: entry.size, mtimeNs: entry.mtimeNs)),
                    let offer = partials.offer(for: entry)
                else { continue }
                offers[entry.path] = offer
                plan.tasks[index] = TransferTask(
                    path: entry.path, kind: .resume, offset: offer.offset, prefixSha256: offer.prefixSha256)
            }
        }

        /// Turns the `full` tasks of files of at least ``ServerSettings/chunkedMinimumSize`` into
        /// `delta` tasks when the catalog holds chunks that might be reused, `chunked` ones otherwise.
        private mutating func offerChunks(_ plan: inout SyncPlan) throws {
            guard chunks else { return }
            let large = plan.tasks.indices.filter {
                plan.tasks.kind(at: $0) == .full && plan.versions[$0].size >= ServerSettings.chunkedMinimumSize
            }
            guard !large.isEmpty else { return }
            let catalog = try self.catalog ?? state.openCatalog()
            self.catalog = catalog
            let kind: TransferTask.Kind = catalog.isEmpty ? .chunked : .delta
            for index in large {
                plan.tasks[index].kind = kind
                chunkTasks[plan.tasks.path(at: index)] = kind
            }
        }

        /// Records the kind of a `chunked` or `delta` task.
        mutating func setChunkTask(_ path: String, _ kind: TransferTask.Kind) { chunkTasks[path] = kind }
    }
}
