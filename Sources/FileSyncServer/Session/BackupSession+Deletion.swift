import FileSyncCore
import Logging

extension BackupSession {
    /// Deletes what the client folder holds beyond `manifest` and `kept`, and forgets the deleted
    /// files in the chunk catalog, if the session has one open.
    func deleteEntries(
        notIn manifest: Manifest, keeping kept: KeptPaths, from folder: ClientFolder, catalog: ChunkCatalog?,
        preserver: Preserver?, context: SessionContext
    ) throws -> Int {
        var deleted: [String] = []
        let paths = manifest.paths
        var exhausted = false
        let stale = try folder.storedPaths { path, isFolder in
            guard !exhausted, !paths.contains(path) else { return false }
            var budget = ExcludeRuleTree.stepBudget
            let covered = kept.covers(path, isFolder: isFolder, budget: &budget)
            exhausted = budget <= 0
            return !covered
        }
        // Rules that cost more than any real path and rules do decide nothing: nothing is deleted.
        guard !exhausted else { throw SkippedDeletions(reason: "the client's exclusion rules take too long to apply") }
        for path in SyncPlan.deletions(stored: stale, keeping: { paths.contains($0) || kept.keeps($0) }) {
            do {
                // A deleted file stays restorable from the snapshots that hold it.
                try preserver?.preserve(relativePath: path, keeping: [])
                if try folder.remove(RelativePath(validating: path)) { deleted.append(path) }
            } catch {
                context.logger.warning("cannot delete", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
        do {
            try catalog?.forget(deleted)
        } catch {
            context.logger.warning(
                "cannot forget the deleted files in the chunk catalog", metadata: ["error": "\(error)"])
        }
        return deleted.count
    }
}

/// Why a backup's deletions were all skipped though nothing of it failed.
struct SkippedDeletions: Error {
    let reason: String
}
