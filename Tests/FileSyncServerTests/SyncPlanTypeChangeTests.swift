import FileSyncCore
import FileSyncServer
import Testing

/// Symlinks and type changes in planning (Protocol.md §6.2, §6.6).
@Suite("Planning symlinks and type changes")
struct SyncPlanTypeChangeTests {
    static func file(_ path: String) -> ManifestEntry {
        ManifestEntry(path: path, type: .file, size: 10, mtimeNs: 1000, mode: 0o644)
    }
    static func folder(_ path: String) -> ManifestEntry {
        ManifestEntry(path: path, type: .dir, size: 0, mtimeNs: 1000, mode: 0o755)
    }
    static func link(_ path: String, _ target: String = "t", mtime: Int64 = 1000) -> ManifestEntry {
        ManifestEntry(
            path: path, type: .symlink, size: Int64(target.utf8.count), mtimeNs: mtime, mode: 0o777, target: target)
    }

    static let heldFile = StoredEntry(type: .file, size: 3, mtimeNs: 5, mode: 0o644)
    static let heldFolder = StoredEntry(type: .dir, size: 0, mtimeNs: 5, mode: 0o755)
    static func heldLink(_ target: String = "t", mtime: Int64 = 1000) -> StoredEntry {
        StoredEntry(type: .symlink, size: Int64(target.utf8.count), mtimeNs: mtime, mode: 0o777, target: target)
    }

    @Test("a symlink is made when new or when its target or mtime differ; an identical one is left alone")
    func symlinks() throws {
        let stored: [String: StoredEntry] = [
            "same": Self.heldLink(), "retarget": Self.heldLink("old"), "touched": Self.heldLink(mtime: 7),
        ]
        let manifest = [Self.link("new"), Self.link("same"), Self.link("retarget"), Self.link("touched")]
        let plan = try SyncPlan.plan(for: manifest, typeChanges: .keepingFolders) { stored[$0] }
        #expect(plan.symlinks.map(\.path) == ["new", "retarget", "touched"])
        #expect(plan.removals.isEmpty && plan.conflicts.isEmpty && plan.tasks.isEmpty)
    }

    @Test("a folder is replaced when deletions are mirrored or history keeps its files; never without metadata")
    func typeChangeRules() {
        typealias Rule = SyncPlan.TypeChanges
        #expect(Rule(metadata: false, mirrorsDeletions: true, keepsHistory: true) == .refused)
        #expect(Rule(metadata: true, mirrorsDeletions: false, keepsHistory: false) == .keepingFolders)
        #expect(Rule(metadata: true, mirrorsDeletions: true, keepsHistory: false) == .all)
        #expect(Rule(metadata: true, mirrorsDeletions: false, keepsHistory: true) == .all)
    }

    @Test("each pair of types: what is held is removed first and the entry planned as new")
    func typeChanges() throws {
        let stored: [String: StoredEntry] = [
            "f2l": Self.heldFile, "l2f": Self.heldLink(), "d2l": Self.heldFolder, "l2d": Self.heldLink(),
            "f2d": Self.heldFile, "d2f": Self.heldFolder,
        ]
        let manifest = [
            Self.link("f2l"), Self.file("l2f"), Self.link("d2l"), Self.folder("l2d"), Self.folder("f2d"),
            Self.file("d2f"),
        ]
        let plan = try SyncPlan.plan(for: manifest, typeChanges: .all) { stored[$0] }
        #expect(plan.removals == ["f2l", "l2f", "d2l", "l2d", "f2d", "d2f"])
        #expect(plan.symlinks.map(\.path) == ["f2l", "d2l"])
        #expect(plan.tasks.map(\.path) == ["l2f", "d2f"])
        #expect(plan.directories.map(\.path) == ["l2d", "f2d"])
        #expect(plan.conflicts.isEmpty)
    }

    @Test("in archive mode a folder is never replaced: the entry is rejected, the folder kept")
    func archiveKeepsFolders() throws {
        let stored: [String: StoredEntry] = ["d2l": Self.heldFolder, "d2f": Self.heldFolder, "f2l": Self.heldFile]
        let manifest = [Self.link("d2l"), Self.file("d2f"), Self.link("f2l")]
        let plan = try SyncPlan.plan(for: manifest, typeChanges: .keepingFolders) { stored[$0] }
        #expect(plan.conflicts.map(\.path) == ["d2l", "d2f"])
        #expect(plan.removals == ["f2l"])
        #expect(plan.symlinks.map(\.path) == ["f2l"])
    }

    @Test("special files are never replaced; without metadata a type change is a conflict as before")
    func refusals() throws {
        let special = StoredEntry(type: .other, size: 0, mtimeNs: 0, mode: 0)
        let withMetadata = try SyncPlan.plan(for: [Self.file("fifo")], typeChanges: .all) { _ in special }
        #expect(withMetadata.conflicts.map(\.path) == ["fifo"] && withMetadata.removals.isEmpty)
        let stored: [String: StoredEntry] = ["l": Self.heldLink(), "f": Self.heldFile]
        let old = try SyncPlan.plan(for: [Self.file("l"), Self.folder("f")]) { stored[$0] }
        #expect(old.conflicts.map(\.path) == ["l", "f"])
        #expect(old.removals.isEmpty && old.tasks.isEmpty && old.directories.isEmpty)
    }

    @Test("a path whose way is blocked is planned as new with metadata (checked again when written)")
    func blockedWay() throws {
        let blocked = StoredEntry(type: .blocked, size: 0, mtimeNs: 0, mode: 0)
        let plan = try SyncPlan.plan(for: [Self.file("x/a")], typeChanges: .keepingFolders) { _ in blocked }
        #expect(plan.tasks.map(\.path) == ["x/a"] && plan.removals.isEmpty)
        let old = try SyncPlan.plan(for: [Self.file("x/a")]) { _ in blocked }
        #expect(old.conflicts.map(\.path) == ["x/a"])
    }

    @Test("with metadata every folder of the manifest is listed for its mtime; without it none is")
    func folderTimes() throws {
        let manifest = [Self.folder("a"), Self.file("a/f"), Self.folder("a/b")]
        let plan = try SyncPlan.plan(for: manifest, typeChanges: .keepingFolders) { _ in Self.heldFolder }
        #expect(plan.folderTimes.map(\.path) == ["a", "a/b"])
        #expect(try SyncPlan.plan(for: manifest) { _ in Self.heldFolder }.folderTimes.isEmpty)
    }

    @Test("with metadata, entries with setuid, setgid or sticky bits here or on the server get their whole mode")
    func specialModes() throws {
        var setuid = Self.file("setuid")
        setuid.mode = 0o4755
        let lost = Self.file("lost")
        let plain = Self.file("plain")
        let stored: [String: StoredEntry] = [
            "lost": StoredEntry(type: .file, size: 10, mtimeNs: 1000, mode: 0o4755),
            "plain": StoredEntry(type: .file, size: 10, mtimeNs: 1000, mode: 0o644),
        ]
        let plan = try SyncPlan.plan(for: [setuid, lost, plain], typeChanges: .keepingFolders) { stored[$0] }
        #expect(plan.specialModes.map(\.path) == ["setuid", "lost"])
        #expect(try SyncPlan.plan(for: [setuid]) { _ in nil }.specialModes.isEmpty)
    }
}
