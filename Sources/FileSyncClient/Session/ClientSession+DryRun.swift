import FileSyncCore

extension ClientSession {
    /// A dry run after `READY` (Protocol.md §4, "Dry run"): the manifest goes as for a backup, the
    /// server answers with `PLAN` parts and `NEXT_SYNC`, and no file content is sent. A server that
    /// did not keep `dryRun` in `READY` would run a real backup: the client stops before its manifest.
    func dryRun(
        _ events: inout ServerEvent.Iterator, ready: Ready, features: SessionFeatures, link: Link
    ) async throws -> Outcome {
        guard features.contains(.dryRun) else {
            throw DryRunUnsupported(serverName: ready.serverName, server: endpoint.description)
        }
        var session = self
        // What a backup would send this server (Protocol.md §1): no symlinks without `metadata`, no
        // FIFOs, sockets or devices without `specials`, every name as a file without `hardlinks`.
        let (symlinks, specials) = (features.contains(.metadata), features.contains(.specials))
        let hardlinks = features.contains(.hardlinks)
        if (!symlinks && scan.entries.hasSymlinks) || (!specials && scan.entries.hasSpecials)
            || (!hardlinks && scan.entries.hasHardLinks)
        {
            session.scan.entries = try scan.entries.keeping(
                symlinks: symlinks, specials: specials, hardlinks: hardlinks
            )
            .manifest
        }
        try await session.sendManifest(limits: ready.limits, features: features, link: link)
        let manifest = session.scan.entries
        var positions: [String: Int] = [:]
        positions.reserveCapacity(manifest.count)
        for position in manifest.indices { positions[manifest.path(at: position)] = position }
        var report = DryRunReport()
        // What a backup would keep as excluded (DONE.excluded) is no deletion to report.
        let rules = features.contains(.excludeRules) ? options.excludeRules ?? [] : []
        let kept =
            try features.contains(.keepExcluded)
            ? KeptPaths(validating: options.keepingExcluded ?? [], rules: rules) : .none
        var filter = KeptDeletions(kept: kept)
        while true {
            switch try await next(&events) {
            case .plan(var part):
                part.entries.removeAll { filter.leavesOut($0) }
                try report.add(part, manifest: manifest, positions: positions)
                guard part.final else { continue }
                guard case .nextSync(let next) = try await next(&events) else {
                    throw FileSyncError(.unexpectedMessage, "expected NEXT_SYNC after the final PLAN")
                }
                var outcome = Outcome()
                outcome.serverName = ready.serverName
                outcome.deletionsWithheld = deletionsWithheld(features)
                outcome.next = next
                outcome.preview = report
                return outcome
            case let other:
                throw FileSyncError(.unexpectedMessage, "expected PLAN, got \(other.kind.rawValue)")
            }
        }
    }
}

/// The deletions a dry run leaves out of its report: those a backup would keep (``KeptPaths``), and
/// the folders above them, which still hold something and so stay. Deletions come deepest first.
private struct KeptDeletions {
    let kept: KeptPaths
    /// The folders above a deletion left out.
    private var holding = Set<String>()

    init(kept: KeptPaths) { self.kept = kept }

    mutating func leavesOut(_ entry: DryRunPlan.Entry) -> Bool {
        guard entry.action == .delete,
            holding.contains(entry.path) || kept.covers(entry.path, isFolder: entry.folder == true)
        else { return false }
        var parent = entry.path
        while let up = KeptPaths.parent(of: parent), holding.insert(up).inserted { parent = up }
        return true
    }
}
