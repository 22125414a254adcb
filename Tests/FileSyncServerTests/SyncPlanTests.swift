import FileSyncCore
import FileSyncServer
import FileSyncSystem
import Testing

@Suite("Manifest to tasks")
struct SyncPlanTests {
    private func file(_ path: String, size: Int64 = 10, mtime: Int64 = 1000, mode: UInt32 = 0o644) -> ManifestEntry {
        ManifestEntry(path: path, type: .file, size: size, mtimeNs: mtime, mode: mode)
    }

    private func held(_ entry: ManifestEntry) -> StoredEntry {
        StoredEntry(type: entry.type == .dir ? .dir : .file, size: entry.size, mtimeNs: entry.mtimeNs, mode: entry.mode)
    }

    @Test("new files are requested, identical ones are not")
    func newAndUnchanged() throws {
        let same = file("same")
        let plan = try SyncPlan.plan(for: [file("new"), same]) { $0 == "same" ? held(same) : nil }
        #expect(Array(plan.tasks) == [TransferTask(path: "new")])
        #expect(plan.unchanged == 1)
    }

    @Test("a different size or mtime requests the file, even when the server copy is newer")
    func changed() throws {
        let stored: [String: StoredEntry] = [
            "bigger": StoredEntry(type: .file, size: 11, mtimeNs: 1000, mode: 0o644),
            "older": StoredEntry(type: .file, size: 10, mtimeNs: 999, mode: 0o644),
            "newer": StoredEntry(type: .file, size: 10, mtimeNs: 5000, mode: 0o644),
            "one-ns": StoredEntry(type: .file, size: 10, mtimeNs: 1001, mode: 0o644),
        ]
        let manifest = ["bigger", "older", "newer", "one-ns"].map { file($0) }
        let plan = try SyncPlan.plan(for: manifest) { stored[$0] }
        #expect(plan.tasks.map(\.path) == ["bigger", "older", "newer", "one-ns"])
        #expect(plan.versions == manifest.map { SyncPlan.Version(size: $0.size, mtimeNs: $0.mtimeNs) })
        #expect(plan.unchanged == 0)
    }

    @Test("a mode-only change is applied without a transfer")
    func modeOnly() throws {
        let entry = file("script", mode: 0o755)
        let plan = try SyncPlan.plan(for: [entry]) { _ in StoredEntry(type: .file, size: 10, mtimeNs: 1000, mode: 0o644)
        }
        #expect(plan.tasks.isEmpty)
        #expect(plan.modeUpdates == [entry])
    }

    @Test("missing folders and changed modes are planned parents first; a file over a folder or symlink is a conflict")
    func foldersAndConflicts() throws {
        let manifest = [
            ManifestEntry(path: "a/b/c", type: .dir, size: 0, mtimeNs: 0, mode: 0o755),
            ManifestEntry(path: "a", type: .dir, size: 0, mtimeNs: 0, mode: 0o755),
            ManifestEntry(path: "held", type: .dir, size: 0, mtimeNs: 0, mode: 0o555),
            ManifestEntry(path: "held-other-mode", type: .dir, size: 0, mtimeNs: 0, mode: 0o700),
            file("blocked-by-dir"), file("blocked-by-link"),
        ]
        let plan = try SyncPlan.plan(for: manifest) { path in
            switch path {
            case "held", "held-other-mode": StoredEntry(type: .dir, size: 0, mtimeNs: 0, mode: 0o755)
            case "blocked-by-dir": StoredEntry(type: .dir, size: 0, mtimeNs: 0, mode: 0o755)
            case "blocked-by-link": StoredEntry(type: .other, size: 0, mtimeNs: 0, mode: 0o777)
            default: nil
            }
        }
        // "held" is stored with its mode (the server adds u+rwx to its folders): nothing to do.
        #expect(plan.directories.map(\.path) == ["a", "a/b/c", "held-other-mode"])
        #expect(plan.conflicts.map(\.path) == ["blocked-by-dir", "blocked-by-link"])
        #expect(plan.tasks.isEmpty)
    }

    @Test("an empty manifest asks for nothing")
    func emptyManifest() throws {
        let plan = try SyncPlan.plan(for: []) { _ in nil }
        #expect(plan == SyncPlan())
    }

    @Test("deletions list only what the manifest lacks, children before parents")
    func deletions() {
        let stored = ["keep", "gone", "dir", "dir/sub", "dir/sub/file", "dir/kept"]
        let manifest: Set<String> = ["keep", "dir", "dir/kept"]
        let result = SyncPlan.deletions(stored: stored, keeping: manifest.contains)
        #expect(Set(result) == ["gone", "dir/sub", "dir/sub/file"])
        #expect(result.firstIndex(of: "dir/sub/file")! < result.firstIndex(of: "dir/sub")!)
    }

    @Test("planned tasks keep their paths and order, take a new kind or resume offer in place, and merge")
    func plannedTasks() throws {
        var tasks = try PlannedTasks([
            TransferTask(path: "a"), TransferTask(path: "d/ünï.txt"), TransferTask(path: "c"),
        ])
        tasks[1].kind = .chunked
        tasks[2] = TransferTask(path: "c", kind: .resume, offset: 7, prefixSha256: String(repeating: "ab", count: 32))
        var more = try PlannedTasks([TransferTask(path: "e", kind: .resume, offset: 1, prefixSha256: "00")])
        try tasks.append(contentsOf: more)
        #expect(
            Array(tasks) == [
                TransferTask(path: "a"), TransferTask(path: "d/ünï.txt", kind: .chunked),
                TransferTask(path: "c", kind: .resume, offset: 7, prefixSha256: String(repeating: "ab", count: 32)),
                TransferTask(path: "e", kind: .resume, offset: 1, prefixSha256: "00"),
            ])
        #expect(tasks.path(at: 1) == "d/ünï.txt" && tasks.kind(at: 1) == .chunked)
        more[0] = TransferTask(path: "e")
        #expect(Array(more) == [TransferTask(path: "e")], "a full task has no resume offer left")
    }
}
