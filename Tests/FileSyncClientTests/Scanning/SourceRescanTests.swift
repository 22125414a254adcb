import FileSyncCore
import Foundation
import Testing

@testable import FileSyncClient

/// A partial rescan of a real folder, after real changes, against a full scan of it.
@Suite("Source rescan")
struct SourceRescanTests {
    static func write(_ path: String, _ text: String = "x") throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test("changes, a new folder, a deleted folder, a rule file changed and hard links: the same as a full scan")
    func sameAsFullScan() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rescan-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for path in ["a/one.txt", "a/b/two.txt", "a/b/c/three.txt", "d/four.txt", "d/e/five.txt", "top.txt"] {
            try Self.write(root + "/" + path)
        }
        try Self.write(root + "/d/.filesyncignore", "*.log\n")
        try Self.write(root + "/d/e/skip.log")
        try FileManager.default.linkItem(atPath: root + "/a/one.txt", toPath: root + "/d/e/link.txt")
        let scanner = SourceScanner(
            source: root, exclusion: ExclusionFilter(rootRules: IgnoreRules(text: "*.tmp\n", folder: "")))
        let previous = try await scanner.scanUnresolved()

        try Self.write(root + "/a/b/c/three.txt", "changed")
        try Self.write(root + "/a/b/c/new.tmp")
        try Self.write(root + "/a/new/deep/file.txt")
        try FileManager.default.removeItem(atPath: root + "/d/e/five.txt")
        try Self.write(root + "/d/.filesyncignore", "five.txt\n")
        try FileManager.default.linkItem(atPath: root + "/a/b/two.txt", toPath: root + "/a/b/c/two-again.txt")
        try FileManager.default.removeItem(atPath: root + "/a/b/c/../../one.txt")
        // a/b too: its two.txt gained a name (the watch sees that as a creation in a/b/c only; the
        // next full scan makes it a link, see README), so that the link is found here.
        let changes = FolderChanges(changed: ["a", "a/b", "a/b/c", "d", "d/e"], appeared: ["a/new"])
        let (rescanned, listed, folders) = try scanner.rescan(previous: previous, changes: changes)
        let full = try await scanner.scanUnresolved()

        #expect(Array(rescanned.entries) == Array(full.entries))
        var (resolvedRescan, resolvedFull) = (rescanned.entries, full.entries)
        resolvedRescan.resolveHardLinks()
        resolvedFull.resolveHardLinks()
        #expect(Array(resolvedRescan) == Array(resolvedFull))
        #expect(resolvedRescan.hasHardLinks, "two.txt and its second name")
        #expect(rescanned.excluded == full.excluded)
        #expect(rescanned.fileCount == full.fileCount)
        // a, a/b, a/b/c, d listed; d's rules changed: d/e walked; a/new and a/new/deep walked.
        #expect(listed == 7)
        #expect(folders == 8)
    }

    @Test("with --exclude-caches, a cache tag written in a folder leaves that folder out, as a full scan does")
    func cacheTagWritten() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rescan-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for path in ["a/cache/blob", "a/keep.txt", "b/other.txt"] { try Self.write(root + "/" + path) }
        var exclusion = ExclusionFilter()
        exclusion.excludeCaches = true
        let scanner = SourceScanner(source: root, exclusion: exclusion)
        let previous = try await scanner.scanUnresolved()
        #expect(previous.entries.contains { $0.path == "a/cache/blob" })

        // The watch sees a change in a/cache only; whether it is left out is decided in a.
        try Self.write(root + "/a/cache/CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n")
        let (rescanned, _, _) = try scanner.rescan(previous: previous, changes: FolderChanges(changed: ["a/cache"]))
        let full = try await scanner.scanUnresolved()
        #expect(Array(rescanned.entries) == Array(full.entries))
        #expect(!rescanned.entries.contains { $0.path.hasPrefix("a/cache") })
        #expect(rescanned.excluded == 1 && full.excluded == 1)
    }
}
