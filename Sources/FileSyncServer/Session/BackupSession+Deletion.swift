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
        let stale = try folder.storedPaths { path, isFolder in
            !paths.contains(path) && !kept.covers(path, isFolder: isFolder)
        }
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
