import FileSyncCore

extension BackupSession {
    /// With `hardlinks`: makes each hard link of the manifest another name of its target, once the
    /// session's files are committed (a new version of the target is a new file: its other names
    /// follow it). A regular file replaced by a link is preserved first when history is on, so the
    /// snapshots that hold it stay restorable. A failure is only logged.
    ///
    /// A link is not made to a target the tasks asked for and the session did not store (it holds
    /// an older version), nor over a file of its unchanged target's size and mtime whose content is
    /// another (one of the two is stale, and nothing here tells which): that target is asked for
    /// again at the next backup, and the link made then (Protocol.md §6.11).
    func linkFiles(_ session: PlannedSession, targets: HardLinkTargets, context: SessionContext) {
        var replaced: [String] = []
        let suspect = ambiguousTargets(session, targets: targets, context: context)
        for entry in session.plan.hardlinks {
            // A target found suspect by one of its names gets none linked to it this session.
            if let target = entry.target, suspect.contains(target) { continue }
            do {
                _ = try session.folder.makeHardLink(entry, check: targets.check(entry.target ?? "")) { path in
                    _ = try session.history?.preserver?.preserve(relativePath: path, keeping: [])
                    replaced.append(path)
                }
            } catch {
                context.logger.warning(
                    "cannot make a hard link", metadata: ["path": "\(entry.path)", "error": "\(error)"])
            }
        }
        do {
            if session.answer.hardlinks { try session.state.setPathsToResend(suspect.sorted()) }
        } catch {
            context.logger.warning("cannot record the targets to ask for again", metadata: ["error": "\(error)"])
        }
        do {
            try session.catalog?.forget(replaced)
        } catch {
            context.logger.warning(
                "cannot forget the replaced files in the chunk catalog", metadata: ["error": "\(error)"])
        }
    }

    static let ambiguousLink =
        "hard link not made: the stored file has its target's size and mtime but another content; "
        + "the target is asked for again at the next backup"

    /// The targets not asked for whose stored copy one of their links finds suspect
    /// (``HardLinkAmbiguity``), each logged once: asked for again at the next backup.
    private func ambiguousTargets(
        _ session: PlannedSession, targets: HardLinkTargets, context: SessionContext
    ) -> Set<String> {
        var suspect = Set<String>()
        for entry in session.plan.hardlinks {
            guard let target = entry.target, !suspect.contains(target), targets.check(target) == .compareReplaced
            else { continue }
            do {
                _ = try session.folder.makeHardLink(entry, check: .compareReplaced, linking: false) { _ in }
            } catch let ambiguity as HardLinkAmbiguity {
                suspect.insert(target)
                context.logger.warning(
                    "\(Self.ambiguousLink)", metadata: ["path": "\(ambiguity.path)", "target": "\(ambiguity.target)"])
            } catch {
                // Reported when the link is made.
            }
        }
        return suspect
    }
}
