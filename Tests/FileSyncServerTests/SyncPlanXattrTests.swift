import FileSyncCore
import FileSyncServer
import Testing

/// Extended attributes in planning (Protocol.md §6.9).
@Suite("Planning extended attributes")
struct SyncPlanXattrTests {
    static let note = [ExtendedAttribute(name: "user.note", value: [1])]

    static func file(_ path: String, _ xattrs: [ExtendedAttribute]?, mtime: Int64 = 1000) -> ManifestEntry {
        ManifestEntry(path: path, type: .file, size: 10, mtimeNs: mtime, mode: 0o644, uid: 0, gid: 0, xattrs: xattrs)
    }

    static func held(_ xattrs: [ExtendedAttribute]) -> StoredEntry {
        var entry = StoredEntry(type: .file, size: 10, mtimeNs: 1000, mode: 0o644)
        entry.xattrs = xattrs
        return entry
    }

    @Test("attributes that differ are noted without a task; requested content with attributes is noted too")
    func planning() throws {
        let stored: [String: StoredEntry] = [
            "same": Self.held(Self.note), "changed": Self.held([]), "dropped": Self.held(Self.note),
            "touched": Self.held(Self.note), "plain": Self.held([]),
        ]
        let manifest = [
            Self.file("same", Self.note), Self.file("changed", Self.note), Self.file("dropped", nil),
            Self.file("touched", Self.note, mtime: 7), Self.file("plain", nil), Self.file("new", Self.note),
            Self.file("newPlain", nil),
        ]
        let plan = try SyncPlan.plan(for: manifest, typeChanges: .keepingFolders, xattrs: true) { stored[$0] }
        #expect(plan.xattrs.map(\.path) == ["changed", "dropped", "touched", "new"])
        #expect(plan.xattrUpdates == 2)
        #expect(Array(plan.tasks).map(\.path) == ["touched", "new", "newPlain"])
        let without = try SyncPlan.plan(for: manifest, typeChanges: .keepingFolders) { stored[$0] }
        #expect(without.xattrs.isEmpty && without.xattrUpdates == 0)
    }
}
