import FileSyncCore
import Logging
import NIOCore
import ServiceLifecycle

/// Receives the files of one session: `FILE_HEADER`, data frames, `FILE_END` or `FILE_ABORT`,
/// file frames, chunk frames, until `DONE`.
///
/// The rules (which frame is legal, when to commit, what to acknowledge) are the
/// ``ReceiveStateMachine``'s; this type only performs what it decides: it holds the files being
/// written and the batch being committed, and reports each outcome back to it.
///
/// Verified files are committed in batches: one filesystem sync, the renames, a second sync, then
/// acknowledgements for the batch. A file that fails (bad checksum, disk full, a symlink in the way)
/// is discarded and reported at once; the session goes on. Protocol violations end the session.
struct FileReceiver {
    typealias Event = ReceiveStateMachine.Event
    typealias Action = ReceiveStateMachine.Action
    /// The batch being committed, a child task whose results are acknowledged before the next
    /// batch starts: receiving goes on meanwhile (at most one child at a time).
    typealias Commits = ThrowingTaskGroup<[FileResult], any Error>

    /// What the receiver writes to and commits through.
    struct Storage {
        let folder: ClientFolder
        let partials: PartialStore
        let catalog: ChunkCatalog?
        let state: ClientStateDirectory
        let committer: BatchCommitter
        /// Whether a delta may patch the stored file in place (§6.8).
        var patchesInPlace = true
        /// With history: keeps what snapshots need of a file before it is patched in place.
        var preserver: Preserver?
        /// Whether the client cuts with the v1 chunker (`chunkerV1`): only then may the server cut a
        /// resumed file itself, since the receiver otherwise never recomputes boundaries (§5.7).
        var cutsLikeClient = false
    }

    let storage: Storage
    var machine: ReceiveStateMachine
    var payloads: FramePayloads
    let acks: AckEncoder
    /// Unnamed files made ahead for small files, when the filesystem has them.
    let unnamedFiles: UnnamedFilePool?
    /// The plain transfer in progress.
    var file: IncomingFile?
    /// The chunked or delta transfer in progress.
    var assembly: ChunkAssembly?
    /// The file frame being stored.
    var wholeFile: WholeFile?
    /// The content of the data frame being handled, from ``Action/decodeData`` to ``Action/write``.
    var decodedData: ByteBuffer?
    /// Verified files waiting for the next commit.
    var pending: [PendingRename] = []
    /// Set once the batch being committed is done, so the next may start without waiting.
    var committed = AtomicFlag()
    /// Bytes of chunked and delta transfers copied from files already stored instead of received.
    var reusedBytes: Int64 = 0
    /// `DONE.excluded`, as it arrived (checked by the deletions that use it).
    private(set) var excluded: [String]?
    /// `DONE.excludeRules`, as it arrived (checked by the deletions that use it).
    private(set) var excludeRules: [ExcludeRuleSet]?
    private let decoder = MessageDecoder()

    init(
        storage: Storage, agreement: ReceiveStateMachine.Agreement, policy: CommitPolicy, codecs: Frame.Flags,
        entries: PathSet?
    ) {
        self.storage = storage
        self.machine = ReceiveStateMachine(agreement, policy: policy)
        self.payloads = FramePayloads(codecs: codecs)
        self.acks = AckEncoder(entries: entries)
        self.unnamedFiles =
            agreement.fileFrames && storage.partials.supportsUnnamedFiles
            ? UnnamedFilePool(directory: storage.folder.descriptor) : nil
    }

    var stored: Int { machine.stored }
    var failed: Int { machine.failed }
    /// Tasks the client never sent (it skipped them: vanished or unreadable files).
    var missing: Int { machine.missing }
    /// The targets of the manifest's hard links that the tasks asked for, and those of them this
    /// session stored.
    var linkTargets: HardLinkTargets {
        HardLinkTargets(requested: machine.linkTargets, stored: machine.storedLinkTargets)
    }

    /// Receives until `DONE`, and commits and acknowledges every verified file. On an error, the
    /// verified files are still committed (not acknowledged) before it is rethrown.
    mutating func receive(_ messages: inout BackupSession.Messages, context: SessionContext) async throws {
        try await withThrowingTaskGroup(of: [FileResult].self) { commits in
            do {
                while !machine.isDone {
                    // A stopping server ends the session between frames: the batch being committed and
                    // the files verified are committed on the way out (below), the file in progress kept.
                    if Task.isShuttingDownGracefully { throw FileSyncError.serverStopping }
                    guard let frame = try await messages.next() else {
                        throw FileSyncError(.connectionClosed, "connection closed during the transfer")
                    }
                    try await receive(frame, context: context, commits: &commits)
                }
            } catch {
                await commitWithoutAcknowledging(&commits)
                throw error
            }
        }
    }

    private mutating func receive(_ frame: Frame, context: SessionContext, commits: inout Commits) async throws {
        var end: FileEnd?
        let event: Event
        switch frame.kind {
        case .data: event = .data
        case .chunk: event = .chunk
        case .chunkList: event = .chunkList
        case .file: event = .fileFrame
        case .manifest, .tasks, .ack: event = .frame(frame.kind)
        case .control:
            switch try decoder.decode(frame) {
            case .fileHeader(let header): event = .fileHeader(header)
            case .fileEnd(let message):
                end = message
                event = .fileEnd
            case .fileAbort(let abort): event = .fileAbort(reason: abort.reason)
            case .done(let done):
                (excluded, excludeRules) = (done.excluded, done.excludeRules)
                event = .done
            case let other: event = .message(other.kind)
            }
        }
        let input = Input(frame: frame, end: end, context: context)
        // A dropped frame's content is let go with the frame, so the next one can reuse its buffer.
        defer { decodedData = nil }
        try await run(try machine.handle(event), input, &commits)
        // After each file, the batch may be due.
        if frame.kind == .file || end != nil {
            try await run(try machine.handle(.settled(committerIdle: committed.isSet)), input, &commits)
            context.reportProgress(filesDone: machine.stored + machine.failed)
        }
    }

    /// What the actions of one frame work on.
    struct Input {
        let frame: Frame
        let end: FileEnd?
        let context: SessionContext
    }

    /// Performs `actions` in order, and those the state machine answers to their outcomes first.
    private mutating func run(_ actions: [Action], _ input: Input, _ commits: inout Commits) async throws {
        var queue = actions[...]
        while let action = queue.popFirst() {
            var followUp: [Action] = []
            for event in try await perform(action, input, &commits) { followUp += try machine.handle(event) }
            queue = followUp[...] + queue
        }
    }

    /// Sends the results of some entries (files, or folders that could not be made): one or more
    /// `FILE_ACK`s, or ack frames with binary tasks.
    func acknowledge(_ results: [FileResult], context: SessionContext) async throws {
        try await context.outbound.write(contentsOf: try acks.frames(for: results))
    }

    /// Commits everything verified, without acknowledging: the session is ending on an error.
    private mutating func commitWithoutAcknowledging(_ commits: inout Commits) async {
        if let results = try? await commits.next() {
            _ = try? machine.handle(.committedUnacknowledged(results))
        }
        let batch = pending
        pending = []
        _ = try? machine.handle(.commitStarted)
        _ = try? machine.handle(.committedUnacknowledged(await storage.committer.commit(batch)))
    }

    /// When the session breaks: keeps the file in progress as a partial to resume from. (The
    /// verified files were committed by ``receive(_:context:)`` on its way out.)
    mutating func abandon(logger: Logger) {
        unnamedFiles?.close()
        file?.keep()
        if let assembly, let kept = assembly.abandon() {
            logger.info(
                "the cut in-place patch is kept as a partial to resume",
                metadata: ["path": "\(assembly.header.path)", "bytes": "\(kept)"])
        }
        assembly?.file?.keep()
        (file, assembly) = (nil, nil)
    }
}
