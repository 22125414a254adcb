import FileSyncCore
import Logging

extension BackupSession.Answer {
    /// Removes what stands where a manifest entry of another type goes (Protocol.md §6.6): a file
    /// or symlink, or a folder with everything below it. Each regular file is preserved first, so
    /// the snapshots that hold it stay restorable. A removal that fails is only logged: what is
    /// then created there fails in its turn and is reported as that entry's failure.
    ///
    /// A folder is removed without `mirrorDeletions` only when the latest snapshot holds it as it is
    /// (``foldersNeedSnapshot``): archive mode deletes nothing a snapshot cannot bring back. Else it
    /// stays, the entry fails, and that run's snapshot records the folder, so the next run replaces it.
    func remove(_ paths: [String], from folder: ClientFolder, logger: Logger) {
        var removed: [String] = []
        for path in paths {
            do {
                let relative = try RelativePath(validating: path)
                if foldersNeedSnapshot, folder.storedEntry(at: relative)?.type == .dir,
                    preserver?.store.latestSnapshotHolds(folderAt: relative) != true
                {
                    logger.warning(
                        "a folder whose type changed is kept: it holds what no snapshot has yet (replaced at the next run)",
                        metadata: ["path": "\(path)"])
                    continue
                }
                try folder.removeTree(relative) { file in
                    _ = try preserver?.preserve(relativePath: file, keeping: [])
                    removed.append(file)
                }
            } catch {
                logger.warning(
                    "cannot replace an entry whose type changed", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
        do {
            try catalog?.forget(removed)
        } catch {
            logger.warning("cannot forget the replaced files in the chunk catalog", metadata: ["error": "\(error)"])
        }
    }
}
