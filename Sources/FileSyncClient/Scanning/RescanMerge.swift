import FileSyncCore

/// A partial rescan put together (no I/O of its own): the previous scan's entries for every
/// folder that did not change, a fresh listing of each folder that did (``FolderChanges``), and a
/// full walk of each folder that appeared or whose rules changed. The result is what a full scan
/// would have found, in the same order (depth first, names sorted), so that the manifest still
/// describes the whole tree.
///
/// A folder that changed is reached through its parent's entries: one gone meanwhile (its parent
/// changed too) is simply not reached. A surprise (a changed folder that cannot be listed though
/// its parent did not change) throws ``Fallback``: the caller scans everything instead.
struct RescanMerge {
    /// What listing one folder found.
    struct Listing {
        /// The folder's own entry, from its status now (its attributes are kept from before).
        var folder: ManifestEntry
        /// The folder's entries (folders among them not entered) and what was noted of them.
        var result: SourceScanner.Result
        /// The folders among the entries that a scan enters (not those on another file system,
        /// nor those that could not be opened).
        var entered: Set<String>
    }

    /// Lists a folder given the rules in force in its parent; `nil` when it is no longer a folder.
    typealias List = (_ folder: String, _ parentRules: IgnoreMatcher) throws -> Listing?
    /// Walks everything below a folder, given the rules in force in its parent.
    typealias Walk = (_ folder: String, _ parentRules: IgnoreMatcher) throws -> SourceScanner.Result

    /// Why the merge gave up: a full scan is needed.
    struct Fallback: Error {
        var reason: String
    }

    private let previous: SourceScanner.Result
    private let appeared: Set<String>
    /// The folders to list again.
    private let relisted: Set<String>
    /// The folders holding a folder to list again.
    private let onTheWay: Set<String>
    /// The position of each folder in the previous scan.
    private let folderPositions: [String: Int]
    private var result = SourceScanner.Result()
    /// The folders listed, and those walked in full (everything below them listed).
    private(set) var listed: Set<String> = []
    private(set) var walked: Set<String> = []
    /// How many folders were listed in all.
    private(set) var listedCount = 0

    /// - Parameter parentsToo: list the parent of each changed folder as well (with
    ///   `--exclude-caches`, whether a folder is left out depends on a file in it).
    init(previous: SourceScanner.Result, changes: FolderChanges, parentsToo: Bool = false) {
        self.previous = previous
        appeared = changes.appeared
        var relisted = changes.changed.union(changes.appeared.map { FolderChanges.parent(of: $0) })
        if parentsToo {
            relisted.formUnion(changes.changed.filter { !$0.isEmpty }.map { FolderChanges.parent(of: $0) })
        }
        self.relisted = relisted
        onTheWay = Set(relisted.flatMap { FolderChanges.ancestors(of: $0) })
        var positions: [String: Int] = [:]
        for position in previous.entries.indices where previous.entries.type(at: position) == .dir {
            positions[previous.entries.path(at: position)] = position
        }
        folderPositions = positions
    }

    /// The merged scan, links not resolved (as the previous one).
    mutating func merge(rootRules: IgnoreMatcher, list: List, walk: Walk) throws -> SourceScanner.Result {
        if relisted.contains("") {
            try relist("", refreshing: nil, parentRules: rootRules, list: list, walk: walk)
        } else {
            let rules = Self.entering(rootRules, "", previous.ruleTexts[""])
            try descend(0..<previous.entries.count, rules: rules, list: list, walk: walk)
        }
        keepPreviousNotes()
        return result
    }

    /// Copies the previous entries at `range` (a folder that did not change, with its subtree),
    /// but for the folders below it that did.
    private mutating func descend(_ range: Range<Int>, rules: IgnoreMatcher, list: List, walk: Walk) throws {
        var position = range.lowerBound
        while position < range.upperBound {
            guard previous.entries.type(at: position) == .dir else {
                try result.entries.append(contentsOf: previous.entries, range: position..<position + 1)
                position += 1
                continue
            }
            let end = previous.entries.subtreeEnd(of: position)
            let path = previous.entries.path(at: position)
            if relisted.contains(path) {
                try relist(path, refreshing: position, parentRules: rules, list: list, walk: walk)
            } else if onTheWay.contains(path) {
                try result.entries.append(contentsOf: previous.entries, range: position..<position + 1)
                let inner = Self.entering(rules, path, previous.ruleTexts[path])
                try descend(position + 1..<end, rules: inner, list: list, walk: walk)
            } else {
                try result.entries.append(contentsOf: previous.entries, range: position..<end)
            }
            position = end
        }
    }

    /// Lists `folder` again; its entry (at `refreshing` in the previous scan, when not already
    /// appended from its parent's listing) goes first, with its status now.
    private mutating func relist(
        _ folder: String, refreshing: Int?, parentRules: IgnoreMatcher, list: List, walk: Walk
    ) throws {
        guard let listing = try list(folder, parentRules) else {
            throw Fallback(reason: "\(folder) changed and is no longer a folder, but its parent did not change")
        }
        listed.insert(folder)
        listedCount += 1
        if let refreshing {
            var entry = listing.folder
            entry.xattrs = previous.entries[refreshing].xattrs
            try result.entries.append(entry)
        }
        let text = listing.result.ruleTexts[folder]
        // New rules in the folder may leave out or bring back anything below it.
        let rulesChanged = text != previous.ruleTexts[folder]
        let rules = Self.entering(parentRules, folder, text)
        result.addNotes(of: listing.result)
        let entries = listing.result.entries
        for position in entries.indices {
            try result.entries.append(contentsOf: entries, range: position..<position + 1)
            let path = entries.path(at: position)
            guard entries.type(at: position) == .dir, listing.entered.contains(path) else { continue }
            if !rulesChanged, !appeared.contains(path), let old = folderPositions[path] {
                if relisted.contains(path) {
                    try relist(path, refreshing: nil, parentRules: rules, list: list, walk: walk)
                } else {
                    let inner = Self.entering(rules, path, previous.ruleTexts[path])
                    try descend(old + 1..<previous.entries.subtreeEnd(of: old), rules: inner, list: list, walk: walk)
                }
            } else {
                let subtree = try walk(path, rules)
                walked.insert(path)
                listedCount += 1 + subtree.entries.indices.count(where: { subtree.entries.type(at: $0) == .dir })
                try result.entries.append(contentsOf: subtree.entries)
                result.addNotes(of: subtree)
            }
        }
    }

    /// Adds what the previous scan noted of the folders neither listed nor walked again and
    /// still there: warnings, files too large, exclusions, rule files.
    private mutating func keepPreviousNotes() {
        var folders: Set<String> = [""]
        for position in result.entries.indices where result.entries.type(at: position) == .dir {
            folders.insert(result.entries.path(at: position))
        }
        let (listed, walked) = (listed, walked)
        let kept = { (folder: String) -> Bool in
            folders.contains(folder) && !listed.contains(folder) && !walked.contains(folder)
                && !FolderChanges.ancestors(of: folder).contains { walked.contains($0) }
        }
        result.warnings += previous.warnings.filter { kept(FolderChanges.parent(of: $0.path)) }
        result.tooLarge += previous.tooLarge.filter { kept(FolderChanges.parent(of: $0.path)) }
        for (folder, text) in previous.ruleTexts where kept(folder) { result.ruleTexts[folder] = text }
        for (folder, count) in previous.excludedIn where kept(folder) {
            result.excludedIn[folder, default: 0] += count
            result.excluded += count
            result.keepExcludedPaths(previous.excludedPathsIn[folder] ?? [], in: folder)
        }
    }

    /// The rules in force in `folder` given those of its parent and its rule file's text.
    private static func entering(_ rules: IgnoreMatcher, _ folder: String, _ text: String?) -> IgnoreMatcher {
        guard let text else { return rules }
        return rules.entering(IgnoreRules(text: text, folder: folder))
    }
}
