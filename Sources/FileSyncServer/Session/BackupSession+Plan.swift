import FileSyncCore
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension BackupSession {
    /// What one session knows once the manifest is planned.
    struct PlannedSession {
        let state: ClientStateDirectory
        let folder: ClientFolder
        let partials: PartialStore
        var manifest: Manifest
        var plan: SyncPlan
        /// With tasks frames: the manifest entries requested.
        var requested: EntrySet?
        var answer: Answer
        /// Opened to plan large files, or once the tasks are out for a client with `chunks`.
        var catalog: ChunkCatalog?
        /// The client's history, when the server keeps one.
        var history: ClientHistory?
    }

    /// Receives and plans the manifest; with tasks frames, the tasks go out meanwhile.
    func planSession(
        _ clientID: ClientID, features: SessionFeatures, mirrors: Bool, _ messages: inout Messages,
        context: SessionContext
    ) async throws -> PlannedSession {
        let manifestStarted = ContinuousClock.now
        let state = ClientStateDirectory(root: settings.root, id: clientID)
        let folder = try ClientFolder(root: settings.root, id: clientID)
        InPlacePatch.recover(in: state, folder: folder, logger: context.logger)
        let partials = try state.openPartials()
        partials.expire(olderThan: settings.partialExpiry)
        var answer = Answer(
            partials: partials, resumes: features.contains(.resume), chunks: features.contains(.chunks),
            state: state, binaryTasks: features.contains(.binaryTasks),
            streamsTasks: features.isSuperset(of: [.binaryTasks, .tasksPerPart]))
        answer.cutsLikeClient = features.contains(.chunkerV1)
        let history = settings.history ? try ClientHistory(root: settings.root, id: clientID) : nil
        if features.contains(.metadata) {
            answer.typeChanges = .init(metadata: true, mirrorsDeletions: mirrors, keepsHistory: history != nil)
            answer.xattrs = features.contains(.xattrs)
            answer.specials = features.contains(.specials)
            answer.hardlinks = features.contains(.hardlinks)
            if answer.hardlinks { answer.resend = state.pathsToResend() }
            answer.preserver = history?.preserver
            answer.foldersNeedSnapshot = !mirrors
        }
        // Each part is planned as it arrives, while the client still encodes the next one; with task
        // frames, its tasks go out at once, so the client starts sending files while the rest is planned.
        let progress = try await receiveManifest(
            &messages, binary: features.contains(.binaryManifest), planningAgainst: folder, answering: &answer,
            context: context)
        context.logger.debug(
            "manifest received and planned",
            metadata: [
                "entries": "\(progress.manifest.paths.count)", "took": "\(ContinuousClock.now - manifestStarted)",
            ])
        return PlannedSession(
            state: state, folder: folder, partials: partials, manifest: progress.manifest, plan: progress.plan,
            requested: progress.requested, answer: answer, catalog: answer.catalog,
            history: history)
    }

    /// Sends the tasks not sent yet (TASKS messages), drops the partials not offered, and opens
    /// the catalog for a client with `chunks`.
    func sendTasks(_ session: inout PlannedSession, features: SessionFeatures, context: SessionContext) async throws {
        let started = ContinuousClock.now
        let offers = session.answer.offers
        if !session.answer.held.isEmpty { session.partials.prune(keeping: Set(offers.values.map(\.name))) }
        if !offers.isEmpty { context.logger.info("resuming partial files", metadata: ["count": "\(offers.count)"]) }
        if !session.answer.binaryTasks { try await sendTaskMessages(session.plan, context: context) }
        // Without large files the catalog was not needed to plan: it is opened (a few ms, more when
        // it is created) once the tasks are on their way.
        if features.contains(.chunks) && session.catalog == nil { session.catalog = try session.state.openCatalog() }
        context.logger.debug("tasks answered", metadata: ["took": "\(ContinuousClock.now - started)"])
    }

    /// The receiver of the session's files. Only the files still expected are kept, one bit each.
    func makeReceiver(
        _ session: inout PlannedSession, features: SessionFeatures, context: inout SessionContext
    ) throws -> FileReceiver {
        let paths = session.manifest.paths
        let expected =
            session.requested.map { ExpectedFiles($0, in: paths) } ?? ExpectedFiles(session.plan.tasks, in: paths)
        session.plan.tasks = PlannedTasks()
        session.plan.versions = []
        session.requested = nil
        let committer = try BatchCommitter(
            root: settings.root, id: session.folder.id, catalog: session.catalog,
            preserver: session.history?.preserver)
        context.committer = committer
        let agreement = ReceiveStateMachine.Agreement(
            expected: expected, offers: session.answer.offers, chunkTasks: session.answer.chunkTasks,
            hasCatalog: session.catalog != nil, fileFrames: features.contains(.fileFrames))
        let storage = FileReceiver.Storage(
            folder: session.folder, partials: session.partials, catalog: session.catalog, state: session.state,
            committer: committer, preserver: session.history?.preserver,
            cutsLikeClient: features.contains(.chunkerV1))
        var receiver = FileReceiver(
            storage: storage, agreement: agreement, policy: commitPolicy, codecs: features.codecs,
            entries: features.contains(.binaryTasks) ? paths : nil)
        receiver.machine.linkTargets = Set(session.plan.hardlinks.compactMap(\.target).filter(expected.contains))
        return receiver
    }

    /// Deletes what the client no longer has, unless something of this backup failed.
    func mirrorDeletions(
        _ next: inout NextSync, _ session: PlannedSession, receiver: FileReceiver, context: SessionContext
    ) throws {
        // What the client's rules excluded (DONE.excluded and DONE.excludeRules, checked now) stays.
        let rules = context.keepsRuleExcluded ? receiver.excludeRules ?? [] : []
        let kept = context.keepsExcluded ? try KeptPaths(validating: receiver.excluded ?? [], rules: rules) : .none
        if session.manifest.paths.isEmpty {
            next.deletionsSkipped = "the client's manifest is empty"
        } else if next.failed > 0 || receiver.missing > 0 {
            next.deletionsSkipped = "some files of this backup failed"
        } else {
            do {
                next.deleted = try deleteEntries(
                    notIn: session.manifest, keeping: kept, from: session.folder, catalog: session.catalog,
                    preserver: session.history?.preserver, context: context)
            } catch let skipped as SkippedDeletions {
                next.deletionsSkipped = skipped.reason
            }
        }
        if let reason = next.deletionsSkipped {
            context.logger.warning("deletions skipped", metadata: ["reason": "\(reason)"])
        }
    }

    /// With `metadata`: the folders' mtimes, once everything below them is written and deleted.
    /// A folder whose time cannot be set is only logged (its contents are stored).
    /// With `metadata`, also the setuid, setgid and sticky bits (Protocol.md §6.3), after the files
    /// are committed (a write would clear them).
    func setFolderTimes(_ session: PlannedSession, linkTargets: HardLinkTargets, context: SessionContext) {
        // Hard links first: they name committed files, and the steps below apply to them too.
        linkFiles(session, targets: linkTargets, context: context)
        // Owners first: a change of owner clears setuid and setgid bits.
        if settings.applyOwners && geteuid() == 0 {
            for path in session.folder.setOwners(session.plan.owners) {
                context.logger.warning("cannot set the owner of an entry", metadata: ["path": "\(path)"])
            }
        }
        // Extended attributes and ACLs after the owners (a change of owner clears a file capability).
        let capabilities = settings.applyOwners && geteuid() == 0
        for (path, names) in session.folder.setXattrs(session.plan.xattrs, capabilities: capabilities) {
            context.logger.warning(
                "cannot set the extended attributes of an entry",
                metadata: ["path": "\(path)", "attributes": "\(names.joined(separator: ","))"])
        }
        for path in session.folder.setSpecialModes(session.plan.specialModes) {
            context.logger.warning("cannot set the mode of an entry", metadata: ["path": "\(path)"])
        }
        guard !session.plan.folderTimes.isEmpty else { return }
        for path in session.folder.setTimes(ofFolders: session.plan.folderTimes) {
            context.logger.warning("cannot set the mtime of a folder", metadata: ["path": "\(path)"])
        }
    }
}
