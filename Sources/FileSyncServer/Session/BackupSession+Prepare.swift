import FileSyncCore

extension BackupSession {
    /// Creates the folders and symlinks and applies the mode changes of a plan, which need no
    /// transfer, with a handle on the client folder of its own (it runs while the files arrive).
    /// Returns the folders and symlinks that could not be made, as failed results.
    static func prepare(
        directories: [ManifestEntry], modeUpdates: [ManifestEntry], symlinks: [ManifestEntry] = [], root: String,
        id: ClientID
    ) async throws -> [FileResult] {
        guard !directories.isEmpty || !modeUpdates.isEmpty || !symlinks.isEmpty else { return [] }
        let folder = try ClientFolder(root: root, id: id)
        var failures: [FileResult] = []
        for directory in directories {
            do {
                try folder.makeDirectory(RelativePath(validating: directory.path), mode: directory.mode)
            } catch let error as FileSyncError {
                failures.append(FileResult(path: directory.path, error: ErrorMessage(error)))
            }
        }
        for link in symlinks {
            do {
                try link.type == .special ? folder.makeSpecial(link) : folder.makeSymlink(link)
            } catch let error as FileSyncError {
                failures.append(FileResult(path: link.path, error: ErrorMessage(error)))
            }
        }
        for entry in modeUpdates {
            try? folder.setMode(of: RelativePath(validating: entry.path), to: entry.mode)
        }
        return failures
    }
}
