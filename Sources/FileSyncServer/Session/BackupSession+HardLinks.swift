import FileSyncCore

extension BackupSession {
    /// With `hardlinks`: makes each hard link of the manifest another name of its target, once the
    /// session's files are committed (a new version of the target is a new file: its other names
    /// follow it). A regular file replaced by a link is preserved first when history is on, so the
    /// snapshots that hold it stay restorable. A failure is only logged.
    func linkFiles(_ session: PlannedSession, context: SessionContext) {
        guard !session.plan.hardlinks.isEmpty else { return }
        var replaced: [String] = []
        for entry in session.plan.hardlinks {
            do {
                _ = try session.folder.makeHardLink(entry) { path in
                    _ = try session.history?.preserver?.preserve(relativePath: path, keeping: [])
                    replaced.append(path)
                }
            } catch {
                context.logger.warning(
                    "cannot make a hard link", metadata: ["path": "\(entry.path)", "error": "\(error)"])
            }
        }
        do {
            try session.catalog?.forget(replaced)
        } catch {
            context.logger.warning(
                "cannot forget the replaced files in the chunk catalog", metadata: ["error": "\(error)"])
        }
    }
}
