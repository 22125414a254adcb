import FileSyncCore
import Testing

@testable import FileSyncClient

/// The partial rescan's merge against a tree held in memory: after changes, listing only the
/// changed folders must give what a full scan gives, and leave every other folder unlisted.
@Suite("Partial rescan merge")
struct RescanMergeTests {
    /// A source held in memory: files with their content, and folders.
    struct Tree {
        var files: [String: String] = [:]
        var folders: Set<String> = [""]
        /// The folders listed so far.
        var listed: [String] = []

        static func join(_ folder: String, _ name: String) -> String { folder.isEmpty ? name : folder + "/" + name }

        func names(in folder: String) -> [String] {
            (Array(files.keys) + folders.filter { !$0.isEmpty }).filter { FolderChanges.parent(of: $0) == folder }
                .map { String($0.split(separator: "/").last!) }.sorted()
        }

        mutating func listing(_ folder: String, parentRules: IgnoreMatcher) -> RescanMerge.Listing? {
            guard folders.contains(folder) else { return nil }
            listed.append(folder)
            var result = SourceScanner.Result()
            let text = files[Self.join(folder, ExclusionFilter.ruleFileName)]
            if let text { result.ruleTexts[folder] = text }
            let rules = text.map { parentRules.entering(IgnoreRules(text: $0, folder: folder)) } ?? parentRules
            var entered: Set<String> = []
            for name in names(in: folder) {
                let path = Self.join(folder, name)
                let isFolder = folders.contains(path)
                if rules.isExcluded(path, isFolder: isFolder) {
                    result.noteExcluded(path, in: folder)
                    continue
                }
                if name.hasPrefix("bad") {
                    result.warnings.append(FileResult(path: path, error: ErrorMessage(code: "skipped", message: "bad")))
                    continue
                }
                try! result.entries.append(
                    ManifestEntry(
                        path: path, type: isFolder ? .dir : .file, size: Int64(files[path]?.utf8.count ?? 0),
                        mtimeNs: 0, mode: isFolder ? 0o755 : 0o644))
                if isFolder { entered.insert(path) }
            }
            return RescanMerge.Listing(
                folder: ManifestEntry(path: folder, type: .dir, size: 0, mtimeNs: 0, mode: 0o755), result: result,
                entered: entered)
        }

        mutating func walk(_ folder: String, parentRules: IgnoreMatcher) -> SourceScanner.Result {
            let listing = listing(folder, parentRules: parentRules)!
            let rules =
                listing.result.ruleTexts[folder].map { parentRules.entering(IgnoreRules(text: $0, folder: folder)) }
                ?? parentRules
            var result = SourceScanner.Result()
            result.addNotes(of: listing.result)
            for position in listing.result.entries.indices {
                try! result.entries.append(contentsOf: listing.result.entries, range: position..<position + 1)
                if listing.result.entries.type(at: position) == .dir {
                    let subtree = walk(listing.result.entries.path(at: position), parentRules: rules)
                    try! result.entries.append(contentsOf: subtree.entries)
                    result.addNotes(of: subtree)
                }
            }
            return result
        }

        mutating func write(_ path: String, _ content: String = "x") {
            files[path] = content
            var folder = FolderChanges.parent(of: path)
            while !folder.isEmpty {
                folders.insert(folder)
                folder = FolderChanges.parent(of: folder)
            }
        }

        mutating func remove(_ path: String) {
            files = files.filter { $0.key != path && !$0.key.hasPrefix(path + "/") }
            folders = folders.filter { $0 != path && !$0.hasPrefix(path + "/") }
        }
    }

    static let rootRules = IgnoreMatcher(rootRules: IgnoreRules(text: "*.tmp\n", folder: ""))

    /// A tree of nine folders, a rule file in `a`, a file left out and one with a warning.
    static func sample() -> Tree {
        var tree = Tree()
        for path in [
            "a/one.txt", "a/b/two.txt", "a/b/c/three.txt", "a/b/c/d/four.txt", "a-b/five.txt", "e/six.txt",
            "e/f/seven.txt", "e/f/x.tmp", "g/bad-name", "top.txt",
        ] { tree.write(path) }
        tree.write("a/.filesyncignore", "*.log\n")
        tree.write("a/b/c/skip.log")
        return tree
    }

    static func entries(_ result: SourceScanner.Result) -> [ManifestEntry] { Array(result.entries) }

    /// Merges `changes` into `previous` with `tree` as it is now; returns the merge and the folders listed.
    static func merge(
        _ previous: SourceScanner.Result, _ changes: FolderChanges, in tree: inout Tree
    ) throws -> (SourceScanner.Result, [String]) {
        tree.listed = []
        var merge = RescanMerge(previous: previous, changes: changes)
        var copy = tree
        let result = try merge.merge(
            rootRules: rootRules, list: { copy.listing($0, parentRules: $1) }, walk: { copy.walk($0, parentRules: $1) })
        tree = copy
        return (result, tree.listed)
    }

    @Test(
        "a file created, modified and deleted in a nested folder: only that folder is listed, the result is a full scan's"
    )
    func nestedChanges() throws {
        var tree = Self.sample()
        let previous = tree.walk("", parentRules: Self.rootRules)
        tree.write("a/b/c/new.txt")
        tree.write("a/b/c/three.txt", "changed")
        tree.remove("a/b/c/d/four.txt")
        let (merged, listed) = try Self.merge(previous, FolderChanges(changed: ["a/b/c", "a/b/c/d"]), in: &tree)
        #expect(listed.sorted() == ["a/b/c", "a/b/c/d"])
        let full = tree.walk("", parentRules: Self.rootRules)
        #expect(Self.entries(merged) == Self.entries(full))
        #expect(merged.fileCount == full.fileCount)
        #expect(merged.excluded == full.excluded && merged.excluded == 2)
        #expect(merged.excludedPaths == full.excludedPaths && merged.excludedPaths.count == 2)
        #expect(merged.warnings == full.warnings)
    }

    @Test("a folder not named is reused as it was, even if it changed (it is not listed)")
    func unchangedFoldersAreReused() throws {
        var tree = Self.sample()
        let previous = tree.walk("", parentRules: Self.rootRules)
        tree.write("e/f/seven.txt", "changed unseen")
        tree.write("top.txt", "changed")
        let (merged, listed) = try Self.merge(previous, FolderChanges(changed: [""]), in: &tree)
        #expect(listed == [""])
        let seven = try #require(Self.entries(merged).first { $0.path == "e/f/seven.txt" })
        #expect(seven.size == 1, "the unseen change is left for the next full scan")
        #expect(Self.entries(merged).first { $0.path == "top.txt" }?.size == 7)
    }

    @Test("a folder that appeared is walked in full; a folder deleted goes with its subtree")
    func appearedAndDeleted() throws {
        var tree = Self.sample()
        let previous = tree.walk("", parentRules: Self.rootRules)
        tree.write("e/new/deep/er/file.txt")
        tree.remove("a/b")
        let changes = FolderChanges(changed: ["a", "a/b", "a/b/c"], appeared: ["e/new"])
        let (merged, listed) = try Self.merge(previous, changes, in: &tree)
        #expect(Set(listed) == ["a", "e", "e/new", "e/new/deep", "e/new/deep/er"])
        let full = tree.walk("", parentRules: Self.rootRules)
        #expect(Self.entries(merged) == Self.entries(full))
        #expect(merged.excluded == full.excluded && merged.excluded == 1, "the excluded log went with a/b/c")
        #expect(merged.excludedPaths == full.excludedPaths)
        #expect(merged.ruleTexts == full.ruleTexts)
    }

    @Test("a rule file changed: its folder's whole subtree is walked again, with the new rules")
    func rulesChanged() throws {
        var tree = Self.sample()
        let previous = tree.walk("", parentRules: Self.rootRules)
        tree.write("a/.filesyncignore", "two.txt\n")
        let (merged, listed) = try Self.merge(previous, FolderChanges(changed: ["a"]), in: &tree)
        #expect(Set(listed) == ["a", "a/b", "a/b/c", "a/b/c/d"])
        let full = tree.walk("", parentRules: Self.rootRules)
        #expect(Self.entries(merged) == Self.entries(full))
        #expect(Self.entries(merged).contains { $0.path == "a/b/c/skip.log" })
        #expect(merged.excluded == full.excluded)
    }

    @Test("a folder that changed but is gone while its parent did not change: a full scan is called for")
    func inconsistentChanges() throws {
        var tree = Self.sample()
        let previous = tree.walk("", parentRules: Self.rootRules)
        tree.remove("e/f")
        #expect(throws: RescanMerge.Fallback.self) {
            _ = try Self.merge(previous, FolderChanges(changed: ["e/f"]), in: &tree)
        }
    }

    @Test("the range copy keeps links noted, and the subtree of a folder ends before a sibling sorting after it")
    func rangeCopyAndSubtree() throws {
        var manifest = PackedManifest()
        for (path, type) in [("a", ManifestEntry.EntryType.dir), ("a/x", .file), ("a/y", .dir), ("a/y/z", .file)] {
            try manifest.append(ManifestEntry(path: path, type: type, size: 1, mtimeNs: 0, mode: 0o644))
            if path == "a/x" { manifest.noteLinks(.init(device: 1, inode: 2)) }
        }
        try manifest.append(ManifestEntry(path: "a-b", type: .dir, size: 0, mtimeNs: 0, mode: 0o755))
        #expect(manifest.subtreeEnd(of: 0) == 4)
        #expect(manifest.subtreeEnd(of: 2) == 4)
        var copy = PackedManifest()
        try copy.append(contentsOf: manifest, range: 1..<4)
        #expect(copy.map(\.path) == ["a/x", "a/y", "a/y/z"])
        #expect(copy.linkKey(at: 0) == .init(device: 1, inode: 2))
        #expect(copy.fileCount == 2)
    }
}
