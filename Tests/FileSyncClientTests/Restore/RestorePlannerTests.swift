import FileSyncClient
import FileSyncCore
import Testing

/// A target folder in memory; records which files were hashed or cut.
final class MemoryLocalFiles: RestoreLocalFiles {
    var states: [String: RestoreLocalState] = [:]
    var hashes: [String: String] = [:]
    /// Chunk-list digests by path (the lengths asked are not checked here).
    var listDigests: [String: String] = [:]
    var chunks: [String: [ChunkHash: Int64]] = [:]
    var partials: [String: Int64] = [:]
    var hashed: [String] = []
    var cut: [String] = []

    func state(of path: RelativePath) -> RestoreLocalState { states[path.string] ?? .absent }
    func sha256(of path: RelativePath) -> String? {
        hashed.append(path.string)
        return hashes[path.string]
    }
    func chunkListDigest(of path: RelativePath, lengths: [Int]) -> String? {
        hashed.append(path.string)
        return listDigests[path.string]
    }
    func chunkOffsets(of path: RelativePath) -> [ChunkHash: Int64]? {
        cut.append(path.string)
        return chunks[path.string]
    }
    func partialSize(sha256: String) -> Int64? { partials[sha256] }
    /// `"path>target"` for each pair of names of one file.
    var links: Set<String> = []
    func isHardLink(_ path: RelativePath, to target: RelativePath) -> Bool {
        links.contains(path.string + ">" + target.string)
    }
    /// The paths holding the very node their entry lists.
    var nodes: Set<String> = []
    func holdsNode(_ path: RelativePath, as entry: RestoreEntry) -> Bool { nodes.contains(path.string) }
}

@Suite("Restore planner")
struct RestorePlannerTests {
    static func sha(_ digit: Character) -> String { String(repeating: digit, count: 64) }
    static func hash(_ byte: UInt8) -> ChunkHash {
        [UInt8](repeating: byte, count: 32).withUnsafeBytes { ChunkHash(bytes: $0)! }
    }

    static let entries = [
        RestoreEntry(path: "docs", type: "dir", size: 0, mtimeNs: 1, mode: 0o755),
        RestoreEntry(path: "docs/a", type: "file", size: 10, mtimeNs: 1, mode: 0o644, sha256: sha("a")),
        RestoreEntry(
            path: "big", type: "file", size: 3 << 20, mtimeNs: 1, mode: 0o644, sha256: sha("b"),
            chunks: (1...3).map { RestoreChunk(length: 1 << 20, sha256: hash($0).description) }),
        RestoreEntry(path: "link", type: "symlink", size: 0, mtimeNs: 1, mode: 0o777),
    ]
    static let paths = entries.map { try! RelativePath(validating: $0.path) }

    @Test("an empty target: every file asked whole, folders and unknown kinds not asked")
    func empty() {
        let local = MemoryLocalFiles()
        let plan = RestorePlanner(overwrite: false).plan(Self.entries, paths: Self.paths, local: local)
        #expect(plan.wants == [RestoreWant.File(entry: 1), RestoreWant.File(entry: 2)])
        #expect(!plan.refused && plan.skipped.isEmpty && local.hashed.isEmpty && local.cut.isEmpty)
    }

    @Test("files in the way, not in the journal, without --overwrite: conflicts, and nothing is hashed")
    func conflicts() {
        let local = MemoryLocalFiles()
        local.states = ["docs": .directory, "docs/a": .file(size: 10), "big": .other]
        let plan = RestorePlanner(overwrite: false).plan(Self.entries, paths: Self.paths, local: local)
        #expect(plan.conflicts == ["docs/a", "big"] && plan.refused)
        #expect(local.hashed.isEmpty)
    }

    @Test("the journal: a finished file is skipped; one it wrote and that changed is asked again")
    func journal() {
        let local = MemoryLocalFiles()
        local.states = ["docs/a": .file(size: 10), "big": .file(size: 5)]
        let journal = ["docs/a": Self.sha("a"), "big": Self.sha("b")]
        let plan = RestorePlanner(overwrite: false, journal: journal).plan(
            Self.entries, paths: Self.paths, local: local)
        #expect(plan.skipped == [1] && !plan.refused)
        #expect(plan.wants == [RestoreWant.File(entry: 2)])
    }

    @Test("a partial copy is continued with its offset")
    func partial() {
        let local = MemoryLocalFiles()
        local.partials = [Self.sha("b"): 1_500_000, Self.sha("a"): 10]
        let plan = RestorePlanner(overwrite: false).plan(Self.entries, paths: Self.paths, local: local)
        #expect(plan.wants == [RestoreWant.File(entry: 1), RestoreWant.File(entry: 2, offset: 1_500_000)])
    }

    @Test(
        "--overwrite: an equal file is skipped (hashed only when the size matches), a changed large file asks its missing chunks"
    )
    func overwrite() {
        let local = MemoryLocalFiles()
        local.states = ["docs/a": .file(size: 10), "big": .file(size: 3 << 20)]
        local.hashes = ["docs/a": Self.sha("a"), "big": Self.sha("c")]
        local.chunks = ["big": [Self.hash(1): 0, Self.hash(3): 2 << 20]]
        let plan = RestorePlanner(overwrite: true).plan(Self.entries, paths: Self.paths, local: local)
        #expect(plan.skipped == [1])
        #expect(plan.wants == [RestoreWant.File(entry: 2, chunks: [1])])
        #expect(plan.localChunks[2] == [Self.hash(1): 0, Self.hash(3): 2 << 20])

        local.states["docs/a"] = .file(size: 11)
        local.hashed = []
        local.chunks["big"] = [Self.hash(9): 0]
        let other = RestorePlanner(overwrite: true).plan(Self.entries, paths: Self.paths, local: local)
        #expect(!local.hashed.contains("docs/a"))
        #expect(other.wants == [RestoreWant.File(entry: 1), RestoreWant.File(entry: 2)])
    }

    @Test("--overwrite: an entry listed by its chunk-list digest is compared by that digest, not the SHA-256")
    func overwriteByChunkListDigest() {
        var entries = Self.entries
        entries[2].digest = RestoreEntry.chunkListDigest
        let local = MemoryLocalFiles()
        local.states = ["big": .file(size: 3 << 20)]
        local.hashes = ["big": Self.sha("b")]
        local.listDigests = ["big": Self.sha("c")]
        local.chunks = ["big": [Self.hash(1): 0]]
        let changed = RestorePlanner(overwrite: true).plan(entries, paths: Self.paths, local: local)
        #expect(changed.wants == [RestoreWant.File(entry: 1), RestoreWant.File(entry: 2, chunks: [1, 2])])
        local.listDigests["big"] = Self.sha("b")
        let equal = RestorePlanner(overwrite: true).plan(entries, paths: Self.paths, local: local)
        #expect(equal.skipped == [2])
    }

    @Test(
        "--overwrite: a file in the way of a folder is replaced (what it holds is new); a folder in the way of a file fails that entry"
    )
    func typeConflicts() {
        let local = MemoryLocalFiles()
        // Below a file, nothing can be looked at.
        local.states = ["docs": .file(size: 3), "docs/a": .other, "big": .directory]
        let plan = RestorePlanner(overwrite: true).plan(Self.entries, paths: Self.paths, local: local)
        #expect(plan.replacements == ["docs"])
        #expect(plan.failed.map(\.path) == ["big"] && !plan.refused)
        #expect(plan.wants == [RestoreWant.File(entry: 1)])
    }

    @Test("without --overwrite, a file in the way of a folder is the conflict: not each path below it")
    func conflictBelowAFile() {
        let local = MemoryLocalFiles()
        local.states = ["docs": .file(size: 3), "docs/a": .other]
        let plan = RestorePlanner(overwrite: false).plan(Self.entries, paths: Self.paths, local: local)
        #expect(plan.conflicts == ["docs"] && plan.refused)
        #expect(plan.replacements.isEmpty)
    }
}

@Suite("Restore planner: symlinks")
struct RestorePlannerSymlinkTests {
    static let entries = [
        RestoreEntry(path: "new", type: "symlink", size: 1, mtimeNs: 1, mode: 0o777, target: "a"),
        RestoreEntry(path: "again", type: "symlink", size: 1, mtimeNs: 1, mode: 0o777, target: "a"),
        RestoreEntry(path: "other", type: "symlink", size: 1, mtimeNs: 1, mode: 0o777, target: "a"),
        RestoreEntry(path: "file", type: "symlink", size: 1, mtimeNs: 1, mode: 0o777, target: "a"),
        RestoreEntry(path: "folder", type: "symlink", size: 1, mtimeNs: 1, mode: 0o777, target: "a"),
    ]

    static func plan(overwrite: Bool) throws -> RestorePlan {
        let local = MemoryLocalFiles()
        local.states = [
            "again": .symlink(target: "a"), "other": .symlink(target: "b"), "file": .file(size: 3),
            "folder": .directory,
        ]
        let paths = try entries.map { try RelativePath(validating: $0.path) }
        return RestorePlanner(overwrite: overwrite).plan(entries, paths: paths, local: local)
    }

    @Test("made where nothing or the same link is; anything else is in the way without --overwrite")
    func planned() throws {
        let plan = try Self.plan(overwrite: false)
        #expect(plan.symlinks == [0, 1])
        #expect(plan.conflicts == ["other", "file", "folder"])
        #expect(plan.wants.isEmpty)
        let overwriting = try Self.plan(overwrite: true)
        #expect(overwriting.symlinks == [0, 1, 2, 3])
        #expect(overwriting.failed.map(\.path) == ["folder"] && overwriting.conflicts.isEmpty)
    }

    @Test("a listed symlink needs a valid target whose length is its size")
    func validation() throws {
        var bad = Self.entries[0]
        bad.target = nil
        #expect(throws: FileSyncError.self) { try RestoreClient.validate([bad]) }
        bad.target = "ab"
        #expect(throws: FileSyncError.self) { try RestoreClient.validate([bad]) }
        #expect(try RestoreClient.validate([Self.entries[0]]).map(\.string) == ["new"])
    }
}

@Suite("Restore planner: nodes a cut run made")
struct RestorePlannerRerunTests {
    static let entries: [RestoreEntry] = {
        var fifo = RestoreEntry(path: "pipe", type: "special", size: 0, mtimeNs: 1, mode: 0o644)
        fifo.special = .fifo
        return [
            RestoreEntry(
                path: "a", type: "file", size: 1, mtimeNs: 1, mode: 0o644, sha256: RestorePlannerTests.sha("a")),
            RestoreEntry(path: "b", type: "hardlink", size: 1, mtimeNs: 1, mode: 0o644, target: "a"), fifo,
        ]
    }()
    static let paths = entries.map { try! RelativePath(validating: $0.path) }

    @Test("a hard link already naming its file is made again and the very FIFO listed is in place: no conflicts")
    func sameNodes() {
        let local = MemoryLocalFiles()
        local.states = ["a": .file(size: 1), "b": .file(size: 1), "pipe": .special(.fifo)]
        local.links = ["b>a"]
        local.nodes = ["pipe"]
        let journal = ["a": RestorePlannerTests.sha("a")]
        let plan = RestorePlanner(overwrite: false, journal: journal).plan(
            Self.entries, paths: Self.paths, local: local)
        #expect(!plan.refused, "\(plan.conflicts)")
        #expect(plan.skipped == [0, 2] && plan.hardlinks == [1] && plan.specials.isEmpty)
    }

    @Test("another file where the link goes, or a node that is not the one listed, is still a conflict")
    func otherNodes() {
        let local = MemoryLocalFiles()
        local.states = ["a": .file(size: 1), "b": .file(size: 1), "pipe": .special(.fifo)]
        let journal = ["a": RestorePlannerTests.sha("a")]
        let plan = RestorePlanner(overwrite: false, journal: journal).plan(
            Self.entries, paths: Self.paths, local: local)
        #expect(plan.conflicts == ["b", "pipe"] && plan.refused)
    }
}
