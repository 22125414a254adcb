import FileSyncCore

/// Decides, from the `RESTORE_LIST` entries and what the target folder holds, which files to ask
/// for and how (Protocol.md §11.4): whole, from an offset (a partial copy of a cut run), or as the
/// chunks the local file lacks. Pure apart from the questions it puts to ``RestoreLocalFiles``.
public struct RestorePlanner {
    /// `--overwrite`: files in the way are replaced instead of refusing the restore.
    public var overwrite: Bool
    /// `<path>: <sha256>` of the files a cut run of this restore completed (its journal).
    public var journal: [String: String]

    public init(overwrite: Bool, journal: [String: String] = [:]) {
        self.overwrite = overwrite
        self.journal = journal
    }

    /// The plan for `entries` (validated), given `local`.
    public func plan(_ entries: [RestoreEntry], paths: [RelativePath], local: some RestoreLocalFiles) -> RestorePlan {
        var plan = RestorePlan()
        var resumed = Set<String>()
        // The regular files' entry numbers by path, made when a hard link's path is taken.
        var files = LazyFileIndex(entries: entries)
        // Folders with something else in their way: replaced (`--overwrite`; what they hold is
        // then new) or in conflict (what they hold is named by the folder's conflict alone).
        var replaced = Set<String>()
        var blocked = Set<String>()
        for (number, entry) in entries.enumerated() {
            let path = paths[number]
            let above = path.parentComponents.indices.lazy.map { path.parentComponents[...$0].joined(separator: "/") }
            if !blocked.isEmpty, above.contains(where: blocked.contains) { continue }
            let state = !replaced.isEmpty && above.contains(where: replaced.contains) ? .absent : local.state(of: path)
            switch entry.type {
            case "dir":
                planFolder(entry, state: state, into: &plan)
                if plan.replacements.last == entry.path { replaced.insert(entry.path) }
                if plan.conflicts.last == entry.path { blocked.insert(entry.path) }
            case "file":
                planFile(number, entry, path: path, state: state, local: local, resumed: &resumed, into: &plan)
            case "symlink": planSymlink(number, entry, state: state, into: &plan)
            case "special":
                // The very node listed (kind, device, mode, mtime) is what a cut run of this restore made.
                if case .special = state, local.holdsNode(path, as: entry) {
                    plan.skipped.append(number)
                } else {
                    planSpecial(number, entry, state: state, into: &plan, list: \.specials)
                }
            case "hardlink":
                // Already a name of its target: a cut run made it; linked again, not a conflict.
                let made = isLinked(entry, at: path, state: state, paths: paths, files: &files, local: local)
                planSpecial(number, entry, state: made ? .absent : state, into: &plan, list: \.hardlinks)
            default: continue  // a kind this client does not know (§11.3)
            }
        }
        return plan
    }

    private func planFolder(_ entry: RestoreEntry, state: RestoreLocalState, into plan: inout RestorePlan) {
        switch state {
        case .absent, .directory: return
        case .file, .symlink, .special:
            if overwrite { plan.replacements.append(entry.path) } else { plan.conflicts.append(entry.path) }
        case .other:
            // Something that cannot be looked at (a parent that is no folder, no permission).
            if overwrite {
                plan.failed.append(Self.failure(entry.path, "something other than a folder is in the way"))
            } else {
                plan.conflicts.append(entry.path)
            }
        }
    }

    /// The local file's digest in the form the entry lists: its SHA-256, or its chunk-list digest at
    /// the listed boundaries.
    private static func localDigest(of path: RelativePath, as entry: RestoreEntry, local: some RestoreLocalFiles)
        -> String?
    {
        guard entry.isChunkListDigest, let chunks = entry.chunks else { return local.sha256(of: path) }
        return local.chunkListDigest(of: path, lengths: chunks.map(\.length))
    }

    private func planFile(
        _ number: Int, _ entry: RestoreEntry, path: RelativePath, state: RestoreLocalState,
        local: some RestoreLocalFiles, resumed: inout Set<String>, into plan: inout RestorePlan
    ) {
        let sha256 = entry.sha256!
        let ours = journal[entry.path] != nil
        if case .file(let size) = state, size == entry.size, journal[entry.path] == sha256 {
            plan.skipped.append(number)
            return
        }
        switch state {
        case .absent: break
        case .directory:
            if overwrite || ours {
                plan.failed.append(Self.failure(entry.path, "a folder is in the way"))
            } else {
                plan.conflicts.append(entry.path)
            }
            return
        case .file, .symlink, .special, .other:
            guard overwrite || ours else {
                plan.conflicts.append(entry.path)
                return
            }
        }
        // A partial copy is continued once per content: two entries with the same content share it.
        if let held = local.partialSize(sha256: sha256), held > 0, held < entry.size, resumed.insert(sha256).inserted {
            plan.wants.append(RestoreWant.File(entry: number, offset: held))
            return
        }
        if case .file(let size) = state {
            if overwrite, size == entry.size, Self.localDigest(of: path, as: entry, local: local) == sha256 {
                plan.skipped.append(number)
                return
            }
            if let chunks = entry.chunks, let offsets = local.chunkOffsets(of: path) {
                let missing = chunks.indices.filter { index in chunks[index].hash.map { offsets[$0] == nil } ?? true }
                if missing.count < chunks.count {
                    // At least one chunk is asked even when all are here: a want names something to send.
                    plan.wants.append(RestoreWant.File(entry: number, chunks: missing.isEmpty ? [0] : missing))
                    plan.localChunks[number] = offsets
                    return
                }
            }
        }
        plan.wants.append(RestoreWant.File(entry: number))
    }

    /// Whether the hard link `entry` at `path` is already a name of the file it links to.
    private func isLinked(
        _ entry: RestoreEntry, at path: RelativePath, state: RestoreLocalState, paths: [RelativePath],
        files: inout LazyFileIndex, local: some RestoreLocalFiles
    ) -> Bool {
        guard case .file = state, let target = entry.target, let number = files.number(of: target) else { return false }
        return local.isHardLink(path, to: paths[number])
    }

    /// The entry numbers of the regular files by path, made at the first question.
    struct LazyFileIndex {
        let entries: [RestoreEntry]
        private var numbers: [String: Int]?

        init(entries: [RestoreEntry]) { self.entries = entries }

        mutating func number(of path: String) -> Int? {
            if numbers == nil {
                var index: [String: Int] = [:]
                for (number, entry) in entries.enumerated() where entry.type == "file" { index[entry.path] = number }
                numbers = index
            }
            return numbers?[path]
        }
    }

    /// A symlink is made where nothing is, or where the same link already is (a cut run made it);
    /// something else in the way is a conflict, replaced with `--overwrite` (a folder never is).
    private func planSymlink(
        _ number: Int, _ entry: RestoreEntry, state: RestoreLocalState, into plan: inout RestorePlan
    ) {
        if case .symlink(let target) = state, target == entry.target {
            plan.symlinks.append(number)
        } else {
            planSpecial(number, entry, state: state, into: &plan, list: \.symlinks)
        }
    }

    /// A FIFO, socket, device or hard link is made where nothing is; something else in the way is
    /// a conflict, replaced with `--overwrite` (a folder never is).
    private func planSpecial(
        _ number: Int, _ entry: RestoreEntry, state: RestoreLocalState, into plan: inout RestorePlan,
        list: WritableKeyPath<RestorePlan, [Int]>
    ) {
        switch state {
        case .absent: plan[keyPath: list].append(number)
        case .directory:
            if overwrite {
                plan.failed.append(Self.failure(entry.path, "a folder is in the way"))
            } else {
                plan.conflicts.append(entry.path)
            }
        case .file, .symlink, .special, .other:
            if overwrite { plan[keyPath: list].append(number) } else { plan.conflicts.append(entry.path) }
        }
    }

    private static func failure(_ path: String, _ message: String) -> FileResult {
        FileResult(path: path, error: ErrorMessage(code: FileSyncError.Code.typeConflict.rawValue, message: message))
    }
}
