import FileSyncCore

/// The rules of the server's receive side (Protocol.md §5), from the task list to `DONE`: which
/// frame is legal now, which file each one belongs to, when a batch is committed and what is
/// acknowledged. Pure: it performs no I/O. ``FileReceiver`` feeds it each frame as an ``Event``,
/// performs the ``Action``s it returns and reports their outcomes back as events.
///
/// A `throw` is a protocol violation: the session ends (Protocol.md §7). A file that cannot be
/// stored fails alone and is acknowledged as failed.
struct ReceiveStateMachine {
    /// The file being received.
    enum Current: Equatable {
        /// Plain data into a partial; `received` counts from the start of the file.
        case receiving(FileHeader, received: Int64)
        /// The file cannot be stored; its data frames are read and dropped until its end.
        case discarding(FileHeader, received: Int64, error: FileSyncError)
        /// A chunked or delta transfer.
        case assembling(FileHeader)

        var header: FileHeader {
            switch self {
            case .receiving(let header, _), .discarding(let header, _, _), .assembling(let header): header
            }
        }
    }

    /// What the session agreed to before the first file.
    struct Agreement {
        /// Tasks not yet sent by the client.
        var expected: ExpectedFiles
        /// Resume offers made in the tasks, by path.
        var offers: [String: PartialStore.Offer] = [:]
        /// Chunked and delta tasks, by path.
        var chunkTasks: [String: TransferTask.Kind] = [:]
        /// Whether a chunk catalog is open (chunked and delta transfers need one).
        var hasCatalog = false
        /// Whether the client may send file frames (`fileFrames` in force).
        var fileFrames = false
    }

    // Internal only so that the extensions in other files (ReceiveStateMachine+File) may set them;
    // nothing outside the state machine does.
    var current: Current?
    var agreement: Agreement
    private(set) var policy: CommitPolicy
    /// Whether a batch is being committed.
    var committing = false
    var stored = 0
    var failed = 0
    /// Set once `DONE` was handled.
    var isDone = false
    /// The targets of the manifest's hard links that the tasks ask for, and those of them this
    /// session stored: a link is made to a target asked for only once it is stored, and to one not
    /// asked for only after a check of what it replaces (§6.11).
    var linkTargets: Set<String> = []
    private(set) var storedLinkTargets: Set<String> = []

    init(_ agreement: Agreement, policy: CommitPolicy) {
        self.agreement = agreement
        self.policy = policy
    }

    /// Tasks the client never sent (it skipped them: vanished or unreadable files).
    var missing: Int { agreement.expected.count }

    /// Whether the next whole file may be held as an unnamed file (with file frames only).
    var holdsNextUnnamed: Bool { policy.mayHoldUnnamed }

    /// Handles one event and returns what to do, in order.
    mutating func handle(_ event: Event) throws -> [Action] {
        switch event {
        case .fileHeader(let header): return try begin(header)
        case .data: return try data()
        case .dataDecoded(let bytes): return try dataDecoded(bytes)
        case .storageFailed(let error): return storageFailed(error)
        case .chunkList: return try inAssembly("a CHUNK_LIST frame arrived outside a delta transfer", .acceptChunkList)
        case .chunk: return try inAssembly("a CHUNK frame arrived outside a chunked or delta transfer", .acceptChunk)
        case .fileFrame: return try fileFrame()
        case .wholeFile(let header): return try wholeFile(header)
        case .fileEnd: return try end()
        case .fileAbort(let reason): return try abort(reason)
        case .done: return try done()
        case .frame(let kind):
            throw FileSyncError(.unexpectedMessage, "a \(kind) frame arrived during the transfer")
        case .message(let kind):
            throw FileSyncError(.unexpectedMessage, "\(kind.rawValue) is not allowed during the transfer")
        case .queued(let bytes, let unnamed):
            policy.queued(bytes: bytes, unnamed: unnamed)
            return []
        case .failed(let result):
            failed += 1
            return [.acknowledge([result])]
        case .patched(let result):
            tally([result])
            return [.acknowledge([result])]
        case .settled(let committerIdle):
            return policy.isDue(committerIdle: !committing || committerIdle) ? startCommit() : []
        case .commitStarted:
            policy.reset()
            committing = true
            return []
        case .committed(let results):
            committing = false
            tally(results)
            return [.acknowledge(results)]
        case .committedUnacknowledged(let results):
            committing = false
            tally(results)
            return []
        }
    }

    private mutating func tally(_ results: [FileResult]) {
        for result in results {
            guard result.succeeded else {
                failed += 1
                continue
            }
            stored += 1
            if linkTargets.contains(result.path) { storedLinkTargets.insert(result.path) }
        }
    }

    /// Waits for the batch being committed, if any (its results come back as
    /// ``Event/committed(_:)``), then hands the pending files to the committer, if any.
    private func startCommit() -> [Action] {
        (committing ? [.awaitCommit] : []) + (policy.hasPending ? [.commitPending] : [])
    }

    private func inAssembly(_ violation: String, _ action: Action) throws -> [Action] {
        guard case .assembling = current else { throw FileSyncError(.unexpectedMessage, violation) }
        return [action]
    }
}
