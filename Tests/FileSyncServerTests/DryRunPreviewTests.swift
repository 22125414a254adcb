import FileSyncCore
import Testing

@testable import FileSyncServer

@Suite("Dry run preview (PLAN entries from the plan)")
struct DryRunPreviewTests {
    private func file(_ path: String, size: Int64 = 10, mode: UInt32 = 0o644) -> ManifestEntry {
        ManifestEntry(path: path, type: .file, size: size, mtimeNs: 1000, mode: mode)
    }

    @Test("each entry gets the action a backup would take; unchanged entries are left out")
    func actions() throws {
        let stored: [String: StoredEntry] = [
            "same": StoredEntry(type: .file, size: 10, mtimeNs: 1000, mode: 0o644),
            "grown": StoredEntry(type: .file, size: 9, mtimeNs: 1000, mode: 0o644),
            "chmod": StoredEntry(type: .file, size: 10, mtimeNs: 1000, mode: 0o600),
            "docs": StoredEntry(type: .dir, size: 0, mtimeNs: 1, mode: 0o700),
            "open": StoredEntry(type: .dir, size: 0, mtimeNs: 1, mode: 0o755),
            "was-file": StoredEntry(type: .file, size: 3, mtimeNs: 1, mode: 0o644),
            "folder": StoredEntry(type: .dir, size: 0, mtimeNs: 1, mode: 0o755),
        ]
        let entries = [
            file("same"), file("grown"), file("chmod"), file("new"),
            ManifestEntry(path: "docs", type: .dir, size: 0, mtimeNs: 1, mode: 0o700),
            ManifestEntry(path: "open", type: .dir, size: 0, mtimeNs: 1, mode: 0o700),
            ManifestEntry(path: "fresh", type: .dir, size: 0, mtimeNs: 1, mode: 0o755),
            ManifestEntry(path: "was-file", type: .dir, size: 0, mtimeNs: 1, mode: 0o755),
            file("folder"),
        ]
        var preview = DryRunPreview()
        try preview.add(entries, typeChanges: .keepingFolders) { stored[$0] }
        let parts = preview.takeParts(final: true)
        #expect(parts.count == 1 && parts[0].final && parts[0].omitted == nil)
        let actions = Dictionary(uniqueKeysWithValues: parts[0].entries.map { ($0.path, $0.action) })
        #expect(
            actions == [
                "grown": .changed, "chmod": .meta, "new": .new, "open": .meta, "fresh": .new, "was-file": .changed,
                "folder": .rejected,
            ])
        #expect(parts[0].entries.first { $0.action == .rejected }?.reason?.isEmpty == false)
        #expect(preview.counts[.rejected] == 1 && preview.counts[.new] == 2)
    }

    @Test("entries rejected before planning are listed with their reason; deletions follow, omitted beyond the limit")
    func rejectedAndDeletions() throws {
        var preview = DryRunPreview()
        try preview.add([file("a")], rejected: [("b", "another spelling")], typeChanges: .all) { _ in nil }
        #expect(preview.takeParts(final: false).map(\.final) == [false])
        #expect(preview.takeParts(final: false).isEmpty, "nothing pending: no part")
        preview.delete(["old/x", "old"])
        let last = preview.takeParts(final: true)
        #expect(last.count == 1 && last[0].final)
        #expect(last[0].entries == [.init(path: "old/x", action: .delete), .init(path: "old", action: .delete)])
        #expect(try last[0].validated() == last[0])
    }

    @Test("a long list is cut into parts of at most 10,000 entries, the last one final")
    func parts() throws {
        var preview = DryRunPreview()
        try preview.add((0..<25_000).map { file("f\($0)") }, typeChanges: .refused) { _ in nil }
        let parts = preview.takeParts(final: true)
        #expect(parts.map(\.entries.count) == [10_000, 10_000, 5_000])
        #expect(parts.map(\.final) == [false, false, true])
    }
}
