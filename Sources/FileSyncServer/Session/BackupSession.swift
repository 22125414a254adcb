import FileSyncCore
import Foundation
import Logging
import NIOCore

/// One client connection, from `HELLO` to `NEXT_SYNC`: handshake, queue, manifest, tasks, files.
///
/// Any error ends this session only: it is sent to the client as `ERROR`, logged, and the queue
/// moves on. Files already verified are still committed; nothing stored is damaged.
struct BackupSession {
    typealias Connection = NIOAsyncChannel<Frame, Frame>
    typealias Messages = NIOAsyncChannelInboundStream<Frame>.AsyncIterator

    let connection: Connection
    let settings: ServerSettings
    let queue: SessionQueue
    let logger: Logger

    func run() async {
        let peer = connection.channel.remoteAddress?.description ?? "unknown peer"
        var logger = logger
        logger[metadataKey: "peer"] = "\(peer)"
        // Kept out here so that the turn is given up, and the catalog completed, once the connection
        // is closed, whatever happened on it.
        var ticket: QueueStateMachine.Ticket?
        var committer: BatchCommitter?
        do {
            try await connection.executeThenClose { inbound, outbound in
                var messages = inbound.makeAsyncIterator()
                var context = Context(outbound: outbound, logger: logger)
                do {
                    try await serve(&messages, &context)
                } catch let error as FileSyncError {
                    context.logger.warning("session ended: \(error)")
                    try? await outbound.write(Message.error(ErrorMessage(error)).frame())
                } catch is CancellationError {
                    context.logger.info("session ended: connection closed")
                } catch {
                    context.logger.warning("session ended: \(error)")
                }
                (ticket, committer, logger) = (context.ticket, context.committer, context.logger)
            }
        } catch {
            logger.debug("connection closed with \(error)")
        }
        // The client has gone; the next session waits for this one's resumed files to be cataloged.
        await committer?.readBack()?.run(logger: logger)
        if let ticket { await queue.leave(ticket) }
    }

    /// State shared by the steps of one session.
    struct Context {
        let outbound: NIOAsyncChannelOutboundWriter<Frame>
        var logger: Logger
        var ticket: QueueStateMachine.Ticket?
        /// Set once files may be committed: it holds what is left to catalog after the session.
        var committer: BatchCommitter?
        let encoder = JSONEncoder()

        init(outbound: NIOAsyncChannelOutboundWriter<Frame>, logger: Logger) {
            self.outbound = outbound
            self.logger = logger
        }

        func send(_ message: Message) async throws {
            try await outbound.write(try frame(message))
        }

        func frame(_ message: Message) throws -> Frame {
            Frame(kind: .control, payload: ByteBuffer(bytes: try encoder.encode(message)))
        }
    }

    // MARK: - Steps

    private func serve(_ messages: inout Messages, _ context: inout Context) async throws {
        let hello = try await expectHello(&messages)
        let clientID = try ClientID(validating: hello.clientId)
        let version = min(hello.version, ProtocolLimits.version)
        guard version >= ProtocolLimits.minimumVersion, version >= hello.minVersion else {
            throw FileSyncError(
                .unsupportedVersion,
                "client speaks protocol \(hello.minVersion)...\(hello.version), server \(ProtocolLimits.minimumVersion)...\(ProtocolLimits.version)"
            )
        }
        context.logger[metadataKey: "client"] = "\(clientID)"
        let capabilities = hello.capabilities.filter { Capability.all.contains($0) }

        try await authenticate(hello, clientID: clientID, &messages, context: context)
        try await waitForTurn(&context)
        try await setReadTimeout(settings.idleTimeout)
        let started = ContinuousClock.now
        context.logger.info("session started; capabilities: \(capabilities.joined(separator: ", "))")
        try await context.send(
            .ready(
                Ready(
                    version: version, serverId: settings.serverId, serverName: settings.name,
                    capabilities: capabilities)))

        let manifestStarted = ContinuousClock.now
        let folder = try ClientFolder(root: settings.root, id: clientID)
        InPlacePatch.recover(in: settings.root + "/.filesync/\(clientID)", folder: folder, logger: context.logger)
        let partials = try PartialStore(root: settings.root, id: clientID)
        partials.expire(olderThan: settings.partialExpiry)
        let catalogDirectory = settings.root + "/.filesync/\(clientID)"
        var answer = Answer(
            partials: partials, resumes: capabilities.contains(Capability.resume),
            chunks: capabilities.contains(Capability.chunks), catalogDirectory: catalogDirectory,
            binaryTasks: capabilities.contains(Capability.binaryTasks),
            streamsTasks: capabilities.contains(Capability.binaryTasks)
                && capabilities.contains(Capability.tasksPerPart))
        // Each part is planned as it arrives, while the client still encodes the next one; with task
        // frames, its tasks go out at once, so the client starts sending files while the rest is planned.
        var (manifest, plan, requested) = try await receiveManifest(
            &messages, binary: capabilities.contains(Capability.binaryManifest), planningAgainst: folder,
            answering: &answer, context: context)
        let planStarted = ContinuousClock.now
        try await setReadTimeout(nil)
        // Folders are created and modes applied while the files arrive (a file's folder is created on
        // the way if it is not there yet); what fails there is acknowledged as failed before NEXT_SYNC.
        let (directories, modeUpdates, root) = (plan.directories, plan.modeUpdates, settings.root)
        async let folderFailures = Self.prepare(
            directories: directories, modeUpdates: modeUpdates, root: root, id: clientID)
        let offers = answer.offers
        if !answer.held.isEmpty { partials.prune(keeping: Set(offers.values.map(\.name))) }
        if !offers.isEmpty { context.logger.info("resuming \(offers.count) partial file(s)") }
        let chunkTasks = answer.chunkTasks
        if !answer.binaryTasks { try await sendTaskMessages(plan, context: context) }
        // Without large files the catalog was not needed to plan: it is opened (a few ms, more when
        // it is created) once the tasks are on their way.
        var catalog = answer.catalog
        if capabilities.contains(Capability.chunks) && catalog == nil {
            catalog = try ChunkCatalog(directory: catalogDirectory)
        }
        context.logger.debug(
            "manifest of \(manifest.paths.count) entries received in \(planStarted - manifestStarted), planned and answered in \(ContinuousClock.now - planStarted)"
        )
        try await setReadTimeout(settings.idleTimeout)

        // The task list is sent: only the files still expected are kept, one bit each.
        let expected =
            requested.map { ExpectedFiles($0, in: manifest.paths) } ?? ExpectedFiles(plan.tasks, in: manifest.paths)
        plan.tasks = PlannedTasks()
        plan.versions = []
        requested = nil
        let committer = try BatchCommitter(root: settings.root, id: clientID, catalog: catalog)
        context.committer = committer
        var receiver = FileReceiver(
            folder: folder, partials: partials, expected: expected, offers: offers,
            chunkTasks: chunkTasks, catalog: catalog,
            codecs: (capabilities.contains(Capability.deflate) ? Frame.Flags.deflated : [])
                .union(capabilities.contains(Capability.zstd) ? .zstd : []),
            fileFrames: capabilities.contains(Capability.fileFrames),
            entries: capabilities.contains(Capability.binaryTasks) ? manifest.paths : nil,
            committer: committer, settings: settings)
        defer { receiver.abandon() }
        try await receiver.receive(&messages, context: context)
        let failures = try await folderFailures
        if !failures.isEmpty {
            for failure in failures {
                context.logger.warning("\(failure.path) failed: \(failure.error?.message ?? "")")
            }
            try await receiver.acknowledge(failures, context: context)
        }

        try await setReadTimeout(nil)
        var next = NextSync(
            afterSeconds: settings.intervalSeconds, stored: receiver.stored,
            failed: receiver.failed + plan.conflicts.count + failures.count, deleted: 0)
        if hello.mirrorDeletions {
            if manifest.paths.isEmpty {
                next.deletionsSkipped = "the client's manifest is empty"
            } else if next.failed > 0 || receiver.missing > 0 {
                next.deletionsSkipped = "some files of this backup failed"
            } else {
                next.deleted = try deleteEntries(notIn: manifest, from: folder, catalog: catalog, context: context)
            }
            if let reason = next.deletionsSkipped { context.logger.warning("deletions skipped: \(reason)") }
        }
        try await context.send(.nextSync(next))
        let seconds = (ContinuousClock.now - started).inSeconds
        context.logger.info(
            "session finished: \(next.stored) stored, \(plan.unchanged) unchanged, \(next.failed) failed, \(next.deleted) deleted in \(String(format: "%.2f", seconds)) s; \(receiver.reusedBytes) bytes reused from stored chunks"
        )
    }

    private func expectHello(_ messages: inout Messages) async throws -> Hello {
        guard let frame = try await messages.next() else {
            throw FileSyncError(.connectionClosed, "connection closed before HELLO")
        }
        guard case .hello(let hello) = try Message(frame: frame) else {
            throw FileSyncError(.unexpectedMessage, "the first message must be HELLO")
        }
        return hello
    }

    /// The challenge-response (Protocol.md, "Authentication"): the server proves it knows the
    /// secret, the client proves it knows the secret and holds the key its id is bound to (binding
    /// the id on first use). Happens before the queue, so strangers cannot hold a place in line.
    private func authenticate(
        _ hello: Hello, clientID: ClientID, _ messages: inout Messages, context: Context
    ) async throws {
        let authenticator = settings.authenticator
        guard let clientNonce = hello.clientNonce, clientNonce.utf8.count == 64, [UInt8](hex: clientNonce) != nil else {
            throw FileSyncError(
                .authenticationFailed,
                "this server requires authentication: give the client a copy of the server's secret (--secret-file)")
        }
        let serverNonce = Authenticator.nonce()
        let id = clientID.string
        try await context.send(
            .challenge(
                Challenge(
                    serverNonce: serverNonce,
                    serverProof: authenticator.serverProof(
                        clientNonce: clientNonce, serverNonce: serverNonce, clientID: id))))
        guard let frame = try await messages.next() else {
            throw FileSyncError(.connectionClosed, "connection closed during authentication")
        }
        guard case .auth(let auth) = try Message(frame: frame) else {
            throw FileSyncError(.unexpectedMessage, "expected AUTH after CHALLENGE")
        }
        let expected = authenticator.clientProof(clientNonce: clientNonce, serverNonce: serverNonce, clientID: id)
        guard Authenticator.matches(auth.proof, expected) else {
            context.logger.warning("authentication failed: wrong secret")
            throw FileSyncError(
                .authenticationFailed, "authentication failed: the client's secret does not match the server's")
        }
        let keys = ClientKeyStore(root: settings.root)
        func proves(_ key: [UInt8]) -> Bool {
            let keyProof = Authenticator.keyProof(
                clientKey: key, clientNonce: clientNonce, serverNonce: serverNonce, clientID: id)
            return Authenticator.matches(auth.keyProof, keyProof)
        }
        var bound = try keys.key(for: clientID)
        if bound == nil {
            // First use of this id: bind it to the client's key, once the client proved it holds it.
            guard
                let offered = authenticator.openClientKey(
                    auth.sealedKey, clientNonce: clientNonce, serverNonce: serverNonce, clientID: id),
                proves(offered)
            else { throw FileSyncError(.malformedMessage, "AUTH carries no valid sealed key") }
            bound = try keys.bind(clientID, to: offered)
            if bound == offered { context.logger.notice("client id \(id) is now bound to this client's key") }
        }
        guard let bound, proves(bound) else {
            context.logger.warning("client key mismatch for id \(id)")
            throw FileSyncError(
                .clientKeyMismatch,
                "client id \"\(id)\" belongs to another client (its key differs); if this machine replaced it, "
                    + "remove \(keys.path(for: clientID)) on the server to bind the id anew")
        }
    }

    /// Takes a place in the queue and, if another client is active, waits for the turn while
    /// sending `QUEUED` at each change of position and every keepalive interval.
    private func waitForTurn(_ context: inout Context) async throws {
        let admission = await queue.enqueue()
        let ticket: QueueStateMachine.Ticket
        switch admission {
        case .rejected:
            throw FileSyncError(.queueFull, "\(settings.maxWaitingClients) clients are waiting already; try later")
        case .start(let active):
            context.ticket = active
            return
        case .wait(let waiting, let position):
            ticket = waiting
            context.ticket = waiting
            context.logger.info("queued at position \(position)")
        }
        let queue = self.queue
        connection.channel.closeFuture.whenComplete { _ in Task { await queue.leaveIfWaiting(ticket) } }
        try await setReadTimeout(nil)

        let keepalive = Int(settings.keepaliveInterval.nanoseconds / 1_000_000_000)
        let (positions, continuation) = AsyncStream.makeStream(of: Int.self)
        let outbound = context.outbound
        let encoder = JSONEncoder()
        let sender = Task {
            for await position in positions where position > 0 {
                let message = Message.queued(Queued(position: position, keepaliveSeconds: keepalive))
                guard let data = try? encoder.encode(message) else { continue }
                try? await outbound.write(Frame(kind: .control, payload: ByteBuffer(bytes: data)))
            }
        }
        let interval = settings.keepaliveInterval
        let ticker = Task {
            while !Task.isCancelled {
                guard let position = await queue.position(of: ticket), position > 0 else { return }
                continuation.yield(position)
                try? await Task.sleep(for: .nanoseconds(interval.nanoseconds))
            }
        }
        defer {
            ticker.cancel()
            continuation.finish()
        }
        try await queue.waitForTurn(ticket) { position in continuation.yield(position) }
        ticker.cancel()
        continuation.finish()
        await sender.value
    }

    /// What the session keeps of the client's manifest once it is planned (the versions of the
    /// files to request are in the plan).
    private struct Manifest {
        /// The path of every entry.
        var paths = PathSet()
    }

    private func receiveManifest(
        _ messages: inout Messages, binary: Bool, planningAgainst folder: ClientFolder, answering answer: inout Answer,
        context: Context
    ) async throws -> (Manifest, SyncPlan, EntrySet?) {
        // Only the paths of all entries are kept (packed: a million cost about 30 MB rather than
        // 150 as entries). With tasks frames, each part's tasks are sent as it is planned and then
        // kept only as one bit per manifest entry (`requested`); TASKS messages need them all at the end.
        var manifest = Manifest()
        var plan = SyncPlan()
        var requested: EntrySet? = answer.binaryTasks ? EntrySet() : nil
        // Paths equal under Unicode canonical equivalence are one path to the protocol; the packed
        // index compares bytes, so paths beyond ASCII are also checked here, as Strings.
        var beyondASCII = Set<String>()
        // Tasks frames held back until the last part, for a client that reads only then.
        var heldFrames: [Frame] = []
        var waiting = Duration.zero
        var decoding = Duration.zero
        var planning = Duration.zero
        while true {
            let started = ContinuousClock.now
            guard let frame = try await messages.next() else {
                throw FileSyncError(.connectionClosed, "connection closed during the manifest")
            }
            let received = ContinuousClock.now
            waiting += received - started
            let part: (entries: [ManifestEntry], final: Bool)
            if frame.kind == .manifest {
                guard binary else {
                    throw FileSyncError(.unexpectedMessage, "a manifest frame, but binaryManifest was not negotiated")
                }
                part = try BinaryManifest.decode(frame.payload)
            } else if case .filesInfo(let info) = try Message(frame: frame) {
                part = (info.entries, info.final)
            } else {
                throw FileSyncError(.unexpectedMessage, "expected CLIENT_FILES_INFO")
            }
            guard part.entries.count <= ProtocolLimits.maxEntriesPerPart,
                manifest.paths.count + part.entries.count <= ProtocolLimits.maxManifestEntries
            else {
                throw FileSyncError(.limitExceeded, "the manifest exceeds the entry limits")
            }
            let firstEntry = manifest.paths.count
            var validated: [ManifestEntry] = []
            validated.reserveCapacity(part.entries.count)
            for entry in part.entries {
                let entry = try entry.validated()
                guard try manifest.paths.insert(entry.path),
                    entry.path.utf8.allSatisfy({ $0 < 0x80 }) || beyondASCII.insert(entry.path).inserted
                else {
                    throw FileSyncError(.malformedMessage, "the manifest lists \"\(entry.path)\" twice")
                }
                validated.append(entry)
            }
            let decoded = ContinuousClock.now
            decoding += decoded - received
            // Two halves planned at once (the client only waits now): the second in a child task with
            // its own descriptors, since a ClientFolder belongs to one task.
            let middle = validated.count / 2
            let tail = Array(validated[middle...])
            let (root, id) = (settings.root, folder.id)
            async let second = Self.plan(tail, root: root, id: id)
            var partPlan = try Self.plan(validated[..<middle], in: folder)
            try partPlan.merge(try await second)
            // Offering a resume hashes the partial's prefix, which may outlast the idle timeout.
            let hashes = answer.offersResumes && !partPlan.tasks.isEmpty
            if hashes { try await setReadTimeout(nil) }
            try answer.offer(&partPlan)
            if hashes { try await setReadTimeout(settings.idleTimeout) }
            if requested != nil {
                let frames = try taskFrames(
                    partPlan, entries: validated, firstEntry: firstEntry, final: part.final, manifest: manifest,
                    requesting: &requested!)
                if answer.streamsTasks {
                    try await context.outbound.write(contentsOf: frames)
                } else {
                    heldFrames += frames
                    if part.final { try await context.outbound.write(contentsOf: heldFrames) }
                }
                partPlan.tasks = PlannedTasks()
                partPlan.versions = []
            }
            try plan.merge(partPlan)
            planning += ContinuousClock.now - decoded
            if part.final {
                logger.debug(
                    "manifest: waited \(waiting), decoded and validated in \(decoding), planned in \(planning)")
                return (manifest, plan, requested)
            }
        }
    }

    /// Plans `entries` against what `folder` holds.
    private static func plan(_ entries: ArraySlice<ManifestEntry>, in folder: ClientFolder) throws -> SyncPlan {
        try SyncPlan.plan(for: entries) { path in
            (try? RelativePath(validating: path)).flatMap { folder.storedEntry(at: $0) }
        }
    }

    /// Plans `entries` against the client folder `<root>/<id>`, opened for this call.
    private static func plan(_ entries: [ManifestEntry], root: String, id: ClientID) async throws -> SyncPlan {
        try plan(entries[...], in: try ClientFolder(root: root, id: id))
    }

    /// Creates the folders and applies the mode changes of a plan, which need no transfer, with a
    /// handle on the client folder of its own (it runs while the files arrive). Returns the folders
    /// that could not be made, as failed results.
    private static func prepare(
        directories: [ManifestEntry], modeUpdates: [ManifestEntry], root: String, id: ClientID
    ) async throws -> [FileResult] {
        guard !directories.isEmpty || !modeUpdates.isEmpty else { return [] }
        let folder = try ClientFolder(root: root, id: id)
        var failures: [FileResult] = []
        for directory in directories {
            do {
                try folder.makeDirectory(RelativePath(validating: directory.path), mode: directory.mode)
            } catch let error as FileSyncError {
                failures.append(FileResult(path: directory.path, error: ErrorMessage(error)))
            }
        }
        for entry in modeUpdates {
            try? folder.setMode(of: RelativePath(validating: entry.path), to: entry.mode)
        }
        return failures
    }

    /// The tasks as `TASKS` messages, all at once after the whole manifest.
    private func sendTaskMessages(_ plan: SyncPlan, context: Context) async throws {
        let rejected = plan.conflicts.map {
            FileResult(
                path: $0.path, error: ErrorMessage(code: FileSyncError.Code.typeConflict.rawValue, message: $0.reason))
        }
        let taskParts = MessageParts.split(Array(plan.tasks), maxCount: ProtocolLimits.maxTasksPerPart) { $0.path }
        let rejectedParts = MessageParts.split(rejected, maxCount: ProtocolLimits.maxTasksPerPart) { $0.path }
        let count = max(taskParts.count, rejectedParts.count)
        var frames: [Frame] = []
        for index in 0..<count {
            let tasks = index < taskParts.count ? Array(taskParts[index]) : []
            let refused = index < rejectedParts.count ? Array(rejectedParts[index]) : []
            let part = Tasks(tasks: tasks, rejected: refused.isEmpty ? nil : refused, final: index == count - 1)
            frames.append(try context.frame(.tasks(part)))
        }
        try await context.outbound.write(contentsOf: frames)
    }

    /// The tasks of one manifest part as tasks frames: each task names its entry by its position in
    /// the manifest, which is added to `requested`. `entries` are the part's entries, the first at
    /// `firstEntry`; no frame for a part without tasks or rejections unless it is the last.
    private func taskFrames(
        _ plan: SyncPlan, entries: [ManifestEntry], firstEntry: Int, final: Bool, manifest: Manifest,
        requesting requested: inout EntrySet
    ) throws -> [Frame] {
        guard final || !plan.tasks.isEmpty || !plan.conflicts.isEmpty else { return [] }
        // The plan lists tasks in the part's order: one pass over its entries finds their positions.
        var builder = BinaryTasks.PartBuilder()
        var cursor = 0
        for task in plan.tasks {
            while cursor < entries.count && entries[cursor].path != task.path { cursor += 1 }
            guard cursor < entries.count else {
                throw FileSyncError(.internalError, "the plan does not list \"\(task.path)\" in manifest order")
            }
            builder.append(entry: firstEntry + cursor, task: task)
            requested.insert(firstEntry + cursor)
            cursor += 1
        }
        let rejected = try plan.conflicts.map { conflict in
            guard let index = manifest.paths.index(of: conflict.path) else {
                throw FileSyncError(.internalError, "\"\(conflict.path)\" is planned but not in the manifest")
            }
            return BinaryTasks.Rejection(entry: index, message: conflict.reason)
        }
        return builder.parts(rejected: rejected, final: final).map {
            Frame(kind: .tasks, payload: BinaryTasks.encode($0))
        }
    }

    /// Deletes what the client folder holds beyond `manifest`, and forgets the deleted files in the
    /// chunk catalog, if the session has one open.
    private func deleteEntries(
        notIn manifest: Manifest, from folder: ClientFolder, catalog: ChunkCatalog?, context: Context
    ) throws -> Int {
        var deleted: [String] = []
        let paths = manifest.paths
        let stale = try folder.storedPaths { !paths.contains($0) }
        for path in SyncPlan.deletions(stored: stale, keeping: paths.contains) {
            do {
                if try folder.remove(RelativePath(validating: path)) { deleted.append(path) }
            } catch {
                context.logger.warning("cannot delete \"\(path)\": \(error)")
            }
        }
        do {
            try catalog?.forget(deleted)
        } catch {
            context.logger.warning("cannot forget the deleted files in the chunk catalog: \(error)")
        }
        return deleted.count
    }

    private func setReadTimeout(_ timeout: TimeAmount?) async throws {
        try await connection.channel.triggerUserOutboundEvent(IdleTimeoutHandler.SetTimeout(timeout)).get()
    }
}
