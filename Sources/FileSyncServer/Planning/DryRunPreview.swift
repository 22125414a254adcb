import FileSyncCore

/// What a dry run reports (Protocol.md §4, "Dry run"): each manifest part planned exactly as a real
/// backup plans it (``SyncPlan``), then told as one action per path that would change, and the
/// deletions a mirroring backup would make. Pure: the stored tree is only looked at through `stored`.
struct DryRunPreview {
    /// Entries not sent yet.
    private(set) var pending: [DryRunPlan.Entry] = []
    /// Entries reported so far, by action.
    private(set) var counts: [DryRunPlan.Action: Int] = [:]
    /// Deletions beyond ``DryRunPlan/maxDeletions``, counted but not listed.
    private(set) var omitted = 0

    /// Plans `entries` (validated, one manifest part) against `stored` and notes what would change.
    /// `rejected` are entries refused before planning (another spelling of a name, below a symlink).
    mutating func add(
        _ entries: [ManifestEntry], rejected: [(path: String, reason: String)] = [],
        typeChanges: SyncPlan.TypeChanges, stored: (String) -> StoredEntry?
    ) throws {
        let plan = try SyncPlan.plan(for: entries, typeChanges: typeChanges, stored: stored)
        var reasons: [String: String] = [:]
        for conflict in plan.conflicts where reasons[conflict.path] == nil { reasons[conflict.path] = conflict.reason }
        let removals = Set(plan.removals)
        let made = Set(plan.tasks.indices.map { plan.tasks.path(at: $0) })
            .union(plan.directories.map(\.path)).union(plan.symlinks.map(\.path))
        let modes = Set(plan.modeUpdates.map(\.path))
        for entry in entries {
            if let reason = reasons[entry.path] {
                note(DryRunPlan.Entry(path: entry.path, action: .rejected, reason: reason))
            } else if removals.contains(entry.path) {
                note(DryRunPlan.Entry(path: entry.path, action: .changed))
            } else if made.contains(entry.path) {
                let held = stored(entry.path)
                let action: DryRunPlan.Action =
                    held == nil || held?.type == .blocked ? .new : entry.type == .dir ? .meta : .changed
                note(DryRunPlan.Entry(path: entry.path, action: action))
            } else if modes.contains(entry.path) {
                note(DryRunPlan.Entry(path: entry.path, action: .meta))
            }
        }
        for rejection in rejected {
            note(DryRunPlan.Entry(path: rejection.path, action: .rejected, reason: rejection.reason))
        }
    }

    /// Notes the stored paths a mirroring backup would delete (``SyncPlan/deletions(stored:keeping:)``'s
    /// order), listing at most ``DryRunPlan/maxDeletions``.
    mutating func delete(_ paths: [String], folders: Set<String> = []) {
        for path in paths {
            if counts[.delete, default: 0] < DryRunPlan.maxDeletions {
                note(DryRunPlan.Entry(path: path, action: .delete, folder: folders.contains(path)))
            } else {
                omitted += 1
            }
        }
    }

    /// The pending entries as `PLAN` parts within the part limits, and forgets them. With `final`,
    /// there is always one part at least, and the last is marked final and carries ``omitted``.
    mutating func takeParts(final: Bool) -> [DryRunPlan] {
        guard final || !pending.isEmpty else { return [] }
        let entries = pending
        pending = []
        let ranges = MessageParts.ranges(count: entries.count, maxCount: DryRunPlan.maxEntriesPerPart) {
            entries[$0].path.utf8.count + (entries[$0].reason?.utf8.count ?? 0)
        }
        return ranges.enumerated().map { index, range in
            let last = final && index == ranges.count - 1
            return DryRunPlan(
                entries: Array(entries[range]), final: last, omitted: last && omitted > 0 ? omitted : nil)
        }
    }

    private mutating func note(_ entry: DryRunPlan.Entry) {
        pending.append(entry)
        counts[entry.action, default: 0] += 1
    }
}
