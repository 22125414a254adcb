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
        var resend: [String] = []
        var replaced: [String] = []
        for entry in session.plan.hardlinks {
            do {
                _ = try session.folder.makeHardLink(entry, check: targets.check(entry.target ?? "")) { path in
                    _ = try session.history?.preserver?.preserve(relativePath: path, keeping: [])
                    replaced.append(path)
                }
            } catch let ambiguity as HardLinkAmbiguity {
                resend.append(ambiguity.target)
                context.logger.warning(
                    "\(Self.ambiguousLink)",
                    metadata: ["path": "\(ambiguity.path)", "target": "\(ambiguity.target)"])
            } catch {
                context.logger.warning(
                    "cannot make a hard link", metadata: ["path": "\(entry.path)", "error": "\(error)"])
            }
        }
        do {
            if session.answer.hardlinks { try session.state.setPathsToResend(resend) }
            try session.catalog?.forget(replaced)
        } catch {
            context.logger.warning(
                "cannot record the hard links' outcome", metadata: ["error": "\(error)"])
        }
    }

    static let ambiguousLink =
        "hard link not made: the stored file has its target's size and mtime but another content; "
        + "the target is asked for again at the next backup"
}
