import FileSyncCore

/// The send side of a backup session after the manifest, as a pure state machine in the style of
/// NIO's `*StateMachine` types: it decides which task goes next, when the client must wait for a
/// task part or a `CHUNK_NEED`, and when `DONE` may go; it tallies what was sent and what was
/// rejected or skipped. The I/O (``ClientSession``, ``FileSender``) only carries out its actions
/// and reports what happened as events; it performs no decision of its own.
///
/// The machine knows nothing of how frames are written, so a restore (server sends, client
/// receives) can drive the same file codecs (``TransferFrames``) from a machine of its own.
struct SendStateMachine {
    /// What happened, reported by the I/O.
    enum Event {
        /// A part of the task list arrived (a tasks frame or a `TASKS` message).
        case tasksArrived(TaskPart)
        /// The file of the current task was sent whole, or skipped or aborted for a reason.
        case fileFinished(FileSender.Outcome)
        /// The current `delta` task's chunk-list frame of `count` entries went out (§5.7).
        case chunkListSent(count: Int)
        /// The server's answer to that chunk list.
        case chunkNeedArrived(ChunkNeed)
    }

    /// A part of the task list in either of its wire forms.
    enum TaskPart {
        case binary(BinaryTasks.Part)
        case json(Tasks)
    }

    /// What the I/O is to do next.
    enum Action: Equatable {
        /// Flush what is buffered, then read the next task part (``Event/tasksArrived(_:)``).
        case awaitTasks
        /// Send the file of this manifest entry for this task, then report ``Event/fileFinished(_:)``.
        case sendFile(entry: Int, task: TransferTask)
        /// Read the `CHUNK_NEED` for the chunk list just sent (the sender flushed it first), and
        /// report it with ``Event/chunkNeedArrived(_:)``; nothing else may come in between.
        case awaitChunkNeed
        /// Send the chunks of the last list flagged here, in list order.
        case sendChunks(needed: [Bool])
        /// Every task is done: send `DONE`; `unchanged` files of the manifest needed nothing.
        case sendDone(unchanged: Int)
    }

    private enum State {
        case awaitingTasks
        case sending(entry: Int, kind: TransferTask.Kind)
        case awaitingChunkNeed(entry: Int, count: Int)
        case done
    }

    let manifest: PackedManifest
    let features: SessionFeatures
    private(set) var tasks = TaskList()
    /// The entries sent whole, whose acknowledgement decides whether they were stored.
    private(set) var sent = EntrySet()
    /// Why files were not stored, by path: rejected by the server or skipped by the client.
    private(set) var failed: [String: String] = [:]
    private var state = State.awaitingTasks
    /// The next task: a run of ``TaskList/runs`` and an entry of that run.
    private var run = 0
    private var entryInRun = 0

    init(manifest: PackedManifest, features: SessionFeatures) {
        self.manifest = manifest
        self.features = features
    }

    /// The first action: the task list is awaited before anything else.
    func start() -> [Action] { [.awaitTasks] }

    /// Whether `DONE` has been decided on.
    var isDone: Bool { if case .done = state { true } else { false } }

    /// The entries of the next `full` tasks, from the one being sent on, as far as the task list
    /// has arrived and at most `limit`: files a sender may read and encode ahead of their turn
    /// (reading changes nothing, so a file prepared but never sent costs only the work).
    func upcomingFullTasks(limit: Int) -> [Int] {
        guard case .sending = state else { return [] }
        var entries: [Int] = []
        var position = (run: run, entry: entryInRun)
        while entries.count < limit, position.run < tasks.runs.count {
            let current = tasks.runs[position.run]
            guard current.kind == .full else { break }
            entries.append(current.first + position.entry)
            position.entry += 1
            if position.entry == current.count { position = (position.run + 1, 0) }
        }
        return entries
    }

    mutating func handle(_ event: Event) throws -> [Action] {
        switch (state, event) {
        case (.awaitingTasks, .tasksArrived(let part)):
            try receive(part)
            return try next()
        case (.sending, .fileFinished(let outcome)):
            try finishFile(outcome)
            return try next()
        case (.sending(let entry, .delta), .chunkListSent(let count)):
            guard count > 0 else { throw FileSyncError(.unexpectedMessage, "an empty chunk list") }
            state = .awaitingChunkNeed(entry: entry, count: count)
            return [.awaitChunkNeed]
        case (.awaitingChunkNeed(let entry, let count), .chunkNeedArrived(let need)):
            let needed = try need.needed(count: count)
            state = .sending(entry: entry, kind: .delta)
            return [.sendChunks(needed: needed)]
        case (.awaitingChunkNeed, .tasksArrived):
            throw FileSyncError(.unexpectedMessage, "expected CHUNK_NEED, got a tasks frame")
        case (_, .tasksArrived):
            throw FileSyncError(.unexpectedMessage, "a task part arrived while none was awaited")
        case (_, .chunkNeedArrived):
            throw FileSyncError(.unexpectedMessage, "a CHUNK_NEED arrived while none was awaited")
        case (_, .fileFinished), (_, .chunkListSent):
            preconditionFailure("the sender reported \(event) in state \(state)")
        }
    }

    private mutating func receive(_ part: TaskPart) throws {
        let rejections: [TaskList.Rejection]
        switch part {
        case .binary(let part):
            guard features.contains(.binaryTasks) else {
                throw FileSyncError(.unexpectedMessage, "a tasks frame, but binaryTasks was not negotiated")
            }
            rejections = try tasks.receive(part, of: manifest)
        case .json(let part):
            guard !features.contains(.binaryTasks) else {
                throw FileSyncError(.unexpectedMessage, "expected a tasks frame, got TASKS")
            }
            rejections = try tasks.receive(part, of: manifest)
        }
        for rejection in rejections { failed[rejection.path] = rejection.reason }
    }

    private mutating func finishFile(_ outcome: FileSender.Outcome) throws {
        guard case .sending(let entry, _) = state else { return }
        switch outcome {
        case .sent: sent.insert(entry)
        case .skipped(let reason): failed[manifest.path(at: entry)] = reason
        }
        entryInRun += 1
        if entryInRun == tasks.runs[run].count {
            run += 1
            entryInRun = 0
        }
    }

    /// The next task, a wait for the task list, or `DONE`.
    private mutating func next() throws -> [Action] {
        guard run < tasks.runs.count else {
            guard tasks.complete else {
                state = .awaitingTasks
                return [.awaitTasks]
            }
            state = .done
            return [.sendDone(unchanged: manifest.fileCount - tasks.taskCount - tasks.rejected)]
        }
        let current = tasks.runs[run]
        guard DeltaOrdering.mayStart(current.kind, taskListComplete: tasks.complete) else {
            state = .awaitingTasks
            return [.awaitTasks]
        }
        guard offers(current.kind) else {
            throw FileSyncError(.unexpectedMessage, "the server asked for a \(current.kind.rawValue) task, not offered")
        }
        let entry = current.first + entryInRun
        state = .sending(entry: entry, kind: current.kind)
        return [.sendFile(entry: entry, task: current.task(path: manifest.path(at: entry)))]
    }

    /// Whether the features in force allow tasks of this kind.
    private func offers(_ kind: TransferTask.Kind) -> Bool {
        switch kind {
        case .full: true
        case .resume: features.contains(.resume)
        case .chunked, .delta: features.contains(.chunks)
        default: false
        }
    }
}
