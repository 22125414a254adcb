import FileSyncCore
import FileSyncServer
import Testing

/// The owners a plan sets (Protocol.md §6.2), kept compactly: a first backup names every entry.
@Suite("Planned owners")
struct PlannedOwnersTests {
    static func entry(_ path: String, type: ManifestEntry.EntryType = .file, uid: UInt32, gid: UInt32) -> ManifestEntry
    {
        var entry = ManifestEntry(
            path: path, type: type, size: type == .dir ? 0 : 10, mtimeNs: 1000, mode: type == .dir ? 0o755 : 0o644)
        (entry.uid, entry.gid) = (uid, gid)
        return entry
    }

    @Test("new entries and entries with another owner are named with the manifest's ids; the rest are not")
    func plannedFromManifest() throws {
        var held = StoredEntry(type: .file, size: 10, mtimeNs: 1000, mode: 0o644)
        (held.uid, held.gid) = (1000, 100)
        var otherGroup = held
        otherGroup.gid = 50
        let stored: [String: StoredEntry] = ["same": held, "regrouped": otherGroup]
        let manifest = [
            Self.entry("dir", type: .dir, uid: 0, gid: 0), Self.entry("dir/new", uid: 1000, gid: 100),
            Self.entry("same", uid: 1000, gid: 100), Self.entry("regrouped", uid: 1000, gid: 100),
        ]
        let plan = try SyncPlan.plan(for: manifest, typeChanges: .keepingFolders) { stored[$0] }
        #expect(
            plan.owners.map { $0 } == [
                .init(path: "dir", uid: 0, gid: 0), .init(path: "dir/new", uid: 1000, gid: 100),
                .init(path: "regrouped", uid: 1000, gid: 100),
            ])
        // A server that does not give entries their owners keeps none.
        #expect(
            try SyncPlan.plan(for: manifest, typeChanges: .keepingFolders, owners: false) { stored[$0] }.owners.isEmpty)
        // Without metadata (`typeChanges: .refused`), owners are not the server's to set.
        #expect(try SyncPlan.plan(for: manifest, typeChanges: .refused) { stored[$0] }.owners.isEmpty)
    }

    @Test("plans of manifest parts merge their owners in order; long paths and large ids survive")
    func mergedInOrder() throws {
        let long = String(repeating: "x", count: 300) + "/é"
        var first = try SyncPlan.plan(for: [Self.entry("a", uid: 1, gid: 2)], typeChanges: .keepingFolders) { _ in nil }
        let second = try SyncPlan.plan(
            for: [Self.entry(long, uid: UInt32.max, gid: 7), Self.entry("c", uid: 3, gid: 4)],
            typeChanges: .keepingFolders
        ) { _ in nil }
        try first.merge(second)
        #expect(first.owners.map(\.path) == ["a", long, "c"])
        #expect(first.owners.map(\.uid) == [1, UInt32.max, 3])
        #expect(first.owners.map(\.gid) == [2, 7, 4])
    }
}
