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
    /// When verified files are committed; its unnamed-file budget comes from the process's
    /// open-file limit, raised once at server start.
    let commitPolicy: CommitPolicy
    /// The session history and the live state.
    let operations: ServerOperations
    /// The connection's bytes, both ways.
    let wire: WireCounter

    func run() async {
        let peer = connection.channel.remoteAddress?.description ?? "unknown peer"
        let peerAddress = connection.channel.remoteAddress?.ipAddress ?? "unknown address"
        var logger = logger
        logger[metadataKey: "peer"] = "\(peer)"
        // Kept out here so that the turn is given up, and the catalog completed, once the connection
        // is closed, whatever happened on it.
        var ticket: QueueStateMachine.Ticket?
        var committer: BatchCommitter?
        var completedHistory: ClientHistory?
        var completedFailures = 0
        var completedOwners: ClaimedOwners?
        var completedDevices: RecordedDevices?
        var record = SessionRecord(clientId: "", peer: peer, startedAt: Date().timeIntervalSince1970)
        var ended: (any Error)?
        var liveEntry: UInt64?
        var dryRun = false
        do {
            try await connection.executeThenClose { inbound, outbound in
                var messages = inbound.makeAsyncIterator()
                var context = SessionContext(outbound: outbound, logger: logger, record: record, live: operations.live)
                context.peerAddress = peerAddress
                do {
                    try await serve(&messages, &context)
                } catch let error as FileSyncError {
                    ended = error
                    context.logger.warning("session ended", metadata: ["error": "\(error)"])
                    if let frame = try? context.frame(.error(ErrorMessage(error.withRetryHint))) {
                        try? await outbound.write(frame)
                    }
                } catch is CancellationError {
                    ended = CancellationError()
                    context.logger.info("session ended: connection closed")
                } catch {
                    ended = error
                    context.logger.warning("session ended", metadata: ["error": "\(error)"])
                }
                (ticket, committer, logger) = (context.ticket, context.committer, context.logger)
                (completedHistory, completedFailures) = (context.completedHistory, context.completedFailures)
                (completedOwners, completedDevices) = (context.completedOwners, context.completedDevices)
                (record, liveEntry, dryRun) = (context.record, context.liveEntry, context.dryRun)
            }
        } catch {
            ended = ended ?? error
            logger.debug("connection closed", metadata: ["error": "\(error)"])
        }
        // The client has gone; the next session waits for this one's resumed files to be cataloged.
        await committer?.readBack()?.run(logger: logger)
        let storedDigests = await committer?.storedDigests
        completedHistory?.recordSnapshot(
            policy: settings.retention, failed: completedFailures, owners: completedOwners, stored: storedDigests,
            devices: completedDevices, logger: logger)
        if let ticket { await queue.leave(ticket) }
        if let liveEntry { operations.live.left(liveEntry) }
        if !dryRun { await finish(record, ended: ended) }
    }

    // MARK: - Steps

    private func serve(_ messages: inout Messages, _ context: inout SessionContext) async throws {
        let (hello, clientID, features) = try await handshake(&messages, &context)
        switch try Self.kind(of: hello, features: features, historyOn: settings.history) {
        case .snapshots: return try await serveSnapshots(clientID, context: context)
        case .restore: return try await serveRestore(clientID, features: features, &messages, context: context)
        case .backup: break
        }
        if context.dryRun {
            return try await serveDryRun(clientID, features: features, mirrors: context.mirrors, &messages, context)
        }
        let started = ContinuousClock.now
        var session = try await planSession(
            clientID, features: features, mirrors: context.mirrors, &messages, context: context)
        context.record.note(session)
        try await setReadTimeout(nil)
        // Folders are created and modes applied while the files arrive (a file's folder is created on
        // the way if it is not there yet); what fails there is acknowledged as failed before NEXT_SYNC.
        let (directories, modeUpdates, root) = (session.plan.directories, session.plan.modeUpdates, settings.root)
        let symlinks = session.plan.symlinks
        async let preparedFolders = Self.prepare(
            directories: directories, modeUpdates: modeUpdates, symlinks: symlinks, root: root, id: clientID)
        try await sendTasks(&session, features: features, context: context)
        if let entry = context.liveEntry {
            operations.live.transferStarted(
                entry, files: session.manifest.taskFiles, bytes: session.manifest.taskBytes)
        }
        try await setReadTimeout(settings.idleTimeout)
        var receiver = try makeReceiver(&session, features: features, context: &context)
        defer { receiver.abandon(logger: context.logger) }
        try await receiver.receive(&messages, context: context)
        let (failures, devices) = try await settle(
            preparedFolders, history: session.history != nil, receiver: receiver, context: context)
        try await setReadTimeout(nil)
        var next = NextSync(
            afterSeconds: settings.intervalSeconds, stored: receiver.stored,
            failed: receiver.failed + session.plan.conflicts.count + failures.count, deleted: 0)
        if context.mirrors { try mirrorDeletions(&next, session, receiver: receiver, context: context) }
        setFolderTimes(session, linkTargets: receiver.linkTargets, context: context)
        if features.contains(.metadata) {
            next.metadataUpdated =
                session.plan.modeUpdates.count + session.plan.symlinks.count - devices.count + session.plan.xattrUpdates
        }
        try await context.send(.nextSync(next))
        (context.completedHistory, context.completedOwners) = (session.history, session.manifest.claimedOwners)
        context.completedDevices = devices.isEmpty ? nil : devices
        context.completedFailures = next.failed + receiver.missing
        (context.record.filesSent, context.record.filesFailed) = (next.stored, context.completedFailures)
        let seconds = (ContinuousClock.now - started).inSeconds
        // The e2e tests read this summary line (and the session-started one) from the log.
        context.logger.info(
            "session finished",
            metadata: [
                "stored": "\(next.stored)", "unchanged": "\(session.plan.unchanged)", "failed": "\(next.failed)",
                "deleted": "\(next.deleted)", "seconds": "\(String(format: "%.2f", seconds))",
                "reusedBytes": "\(receiver.reusedBytes)",
            ])
    }

    /// `HELLO` to `READY`: version, authentication, the turn in the queue, the features in force.
    private func handshake(
        _ messages: inout Messages, _ context: inout SessionContext
    ) async throws -> (Hello, ClientID, SessionFeatures) {
        let hello = try await expectHello(&messages)
        let clientID = try ClientID(validating: hello.clientId)
        // Named before the version check, so that a refusal for the version is the client's too.
        context.logger[metadataKey: "client"] = "\(clientID)"
        context.record.clientId = clientID.string
        context.record.kind = SessionRecord.Kind(hello.session ?? .backup)
        let version = min(hello.version, ProtocolLimits.version)
        guard version >= ProtocolLimits.minimumVersion, version >= hello.minVersion else {
            throw FileSyncError(
                .unsupportedVersion,
                "client speaks protocol \(hello.minVersion)...\(hello.version), server \(ProtocolLimits.minimumVersion)...\(ProtocolLimits.version)"
            )
        }
        let offered = settings.history ? SessionFeatures.all : SessionFeatures.all.subtracting(.history)
        let features = SessionFeatures.negotiate(client: hello.capabilities, server: offered.capabilities)
        // READY lists the capabilities in force, in the client's order (Protocol.md §1): not one
        // that negotiation dropped (tasksPerPart without binaryTasks), nor one named twice.
        var listed = SessionFeatures()
        let capabilities = hello.capabilities.filter { name in
            let feature = SessionFeatures(capabilities: [name])
            guard !feature.isEmpty, features.isSuperset(of: feature), !listed.isSuperset(of: feature) else {
                return false
            }
            listed.formUnion(feature)
            return true
        }
        context.dryRun = try Self.isDryRun(hello, features: features)
        try await authenticate(hello, clientID: clientID, binding: !context.dryRun, &messages, context: context)
        context.keepsExcluded = features.contains(.keepExcluded) && hello.mirrorDeletionsKeepingExcluded == true
        context.keepsRuleExcluded = context.keepsExcluded && features.contains(.excludeRules)
        context.mirrors = hello.mirrorDeletions || context.keepsExcluded
        // Listing snapshots reads only files a backup never rewrites: it need not wait its turn.
        if try Self.kind(of: hello, features: features, historyOn: settings.history) != .snapshots {
            try await waitForTurn(&context)
        }
        try await setReadTimeout(settings.idleTimeout)
        context.record.turnStarted = Date().timeIntervalSince1970
        context.logger.info("session started", metadata: ["capabilities": "\(capabilities.joined(separator: ","))"])
        try await context.send(
            .ready(
                Ready(
                    version: version, serverId: settings.serverId, serverName: settings.name,
                    capabilities: capabilities)))
        return (hello, clientID, features)
    }

    func setReadTimeout(_ timeout: TimeAmount?) async throws {
        try await connection.channel.triggerUserOutboundEvent(IdleTimeoutHandler.SetTimeout(timeout)).get()
    }
}
