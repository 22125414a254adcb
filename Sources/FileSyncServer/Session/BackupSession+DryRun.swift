import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension BackupSession {
    /// Whether `HELLO` asks for a dry run, which needs `dryRun` in force and is a backup's.
    static func isDryRun(_ hello: Hello, features: SessionFeatures) throws -> Bool {
        guard hello.dryRun == true else { return false }
        guard features.contains(.dryRun) else {
            throw FileSyncError(.unexpectedMessage, "a dry run needs the dryRun capability in HELLO")
        }
        guard (hello.session ?? .backup) == .backup else {
            throw FileSyncError(.unexpectedMessage, "only a backup session can be a dry run")
        }
        return true
    }

    /// A dry run (Protocol.md §4, "Dry run"): the manifest is received and planned as for a backup,
    /// but nothing is created, removed, expired or recorded. What a backup would do goes back as
    /// `PLAN` parts (each manifest part's as it is planned, the deletions with the final one), then
    /// `NEXT_SYNC`; the client sends nothing more.
    func serveDryRun(
        _ clientID: ClientID, features: SessionFeatures, mirrors: Bool, _ messages: inout Messages,
        _ context: SessionContext
    ) async throws {
        // A client never backed up has no folder: everything would be new.
        let folder = try Self.existingFolder(root: settings.root, id: clientID)
        let typeChanges = SyncPlan.TypeChanges(
            metadata: features.contains(.metadata), mirrorsDeletions: mirrors, keepsHistory: settings.history)
        let stored: (String) -> StoredEntry? = { path in
            guard let folder, let relative = try? RelativePath(validating: path) else { return nil }
            return folder.storedEntry(at: relative)
        }
        var manifest = Manifest()
        var preview = DryRunPreview()
        while true {
            let part = try await nextManifestPart(
                &messages, binary: features.contains(.binaryManifest), symlinks: typeChanges != .refused,
                xattrs: features.contains(.xattrs), specials: features.contains(.specials),
                hardlinks: features.contains(.hardlinks))
            let (validated, collisions) = try manifest.add(part.entries)
            var planned = validated
            for collision in collisions.reversed() { planned.remove(at: collision.position) }
            try preview.add(
                planned, rejected: collisions.map { (validated[$0.position].path, $0.reason) },
                typeChanges: typeChanges, stored: stored)
            if part.final { break }
            for plan in preview.takeParts(final: false) { try await context.send(.plan(plan)) }
        }
        // The deletions a backup would make: the same rule as mirrorDeletions (§6.5), minus what
        // only the transfer can tell (a failed file skips them).
        if mirrors, !manifest.paths.isEmpty, let folder {
            // With keepExcluded, the client leaves out of its report what its rules excluded.
            let paths = manifest.paths
            var folders = Set<String>()
            let stale = try folder.storedPaths { path, isFolder in
                guard !paths.contains(path) else { return false }
                if isFolder { folders.insert(path) }
                return true
            }
            preview.delete(SyncPlan.deletions(stored: stale, keeping: paths.contains), folders: folders)
        }
        for plan in preview.takeParts(final: true) { try await context.send(.plan(plan)) }
        let rejected = preview.counts[.rejected, default: 0]
        try await context.send(
            .nextSync(NextSync(afterSeconds: settings.intervalSeconds, stored: 0, failed: rejected, deleted: 0)))
        context.logger.info(
            "dry run finished",
            metadata: [
                "entries": "\(manifest.paths.count)", "new": "\(preview.counts[.new, default: 0])",
                "changed": "\(preview.counts[.changed, default: 0])", "meta": "\(preview.counts[.meta, default: 0])",
                "delete": "\(preview.counts[.delete, default: 0] + preview.omitted)", "rejected": "\(rejected)",
            ])
    }

    /// The client's folder if it exists (opened without creating anything), `nil` if it does not.
    private static func existingFolder(root: String, id: ClientID) throws -> ClientFolder? {
        var info = stat()
        let path = root.hasSuffix("/") ? root + id.string : root + "/" + id.string
        if lstat(path, &info) != 0 && errno == ENOENT { return nil }
        return try ClientFolder(root: root, id: id, create: false)
    }
}
