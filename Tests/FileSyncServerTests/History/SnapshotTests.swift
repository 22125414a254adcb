import FileSyncCore
import FileSyncSystem
import Foundation
import TestSupport
import Testing

@testable import FileSyncServer

#if canImport(Glibc)
    import Glibc
#endif

@Suite("History snapshots") struct SnapshotTests {
    @Test("a snapshot of an unchanged 10,000-file tree adds only its own small file and reads no file")
    func unchangedTreeCostsOneSmallFile() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        for folder in 0..<100 {
            for file in 0..<100 {
                try fixture.write("d\(folder)/f\(file).txt", Array("folder \(folder) file \(file)\n".utf8))
            }
        }
        let first = try fixture.snapshot()
        #expect(first.record.files == 10_000)
        #expect(first.record.added == 10_000)
        #expect(first.filesRead == 10_000)
        let before = fixture.store.diskUsage()
        let second = try fixture.snapshot(at: 1_800_003_600)
        let after = fixture.store.diskUsage()
        #expect(second.filesRead == 0)
        #expect(second.treeBytesWritten == 0)
        #expect(second.record.rootTree == first.record.rootTree)
        #expect((second.record.added, second.record.changed, second.record.deleted) == (0, 0, 0))
        #expect(after.files == before.files + 1, "only the snapshot file is new")
        #expect(after.bytes - before.bytes <= 64 << 10)
        #expect(try fixture.store.snapshots().records.map(\.id) == [first.record.id, second.record.id])
    }

    @Test("a changed file in one folder rewrites that folder's tree and the root only; counts are exact")
    func changedFolderOnly() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try fixture.write("a/one", [1])
        try fixture.write("a/two", [2])
        try fixture.write("b/three", [3])
        try fixture.write("c/four", [4])
        #expect(symlink("/etc/passwd", fixture.tree + "/b/link") == 0)
        let first = try fixture.snapshot()
        _ = try fixture.replace("a/one", with: [9, 9])
        try fixture.delete("c/four")
        try fixture.write("a/new", [5])
        let second = try fixture.snapshot(at: 1_800_000_060)
        #expect(second.filesRead == 2)
        #expect((second.record.added, second.record.changed, second.record.deleted) == (1, 1, 1))
        let firstB = try fixture.store.entry(at: "b", in: first.record)
        let secondB = try fixture.store.entry(at: "b", in: second.record)
        #expect(firstB?.content == secondB?.content, "unchanged folder b keeps its tree hash")
        guard case .symlink(let target)? = try fixture.store.entry(at: "b/link", in: second.record)?.content else {
            Issue.record("the symlink is not recorded as one")
            return
        }
        #expect(target == Array("/etc/passwd".utf8))
        #expect(try fixture.restore("a/one", from: first.record) == [1])
        #expect(try fixture.restore("c/four", from: first.record) == [4])
        #expect(try fixture.restore("a/one", from: second.record) == [9, 9])
    }

    @Test("tree objects encode deterministically and decode to the same entries")
    func treeEncodingRoundTrip() throws {
        let file = FileContent(
            sha256: HistoryFixture.sha256([1]), chunks: [ChunkEntry(length: 1, hash: HistoryFixture.sha256([1]))],
            inode: 42, ctimeNs: 7)
        let entries = [
            TreeEntry(name: "z", mode: 0o644, uid: 1, gid: 2, mtimeNs: 3, size: 1, content: .file(file)),
            TreeEntry(name: "a", mode: 0o755, uid: 1, gid: 2, mtimeNs: 3, size: 0, content: .folder(file.sha256!)),
            TreeEntry(name: "é", mode: 0o777, uid: 0, gid: 0, mtimeNs: -1, size: 3, content: .symlink([1, 2, 3])),
        ]
        let tree = TreeObject(entries: entries)
        #expect(TreeObject(entries: entries.reversed()).encoded() == tree.encoded())
        #expect(try TreeObject(decoding: tree.encoded()) == tree)
        #expect(tree.entries.map(\.name) == ["a", "z", "é"])
        var damaged = tree.encoded()
        damaged.removeLast()
        #expect(throws: (any Error).self) { try TreeObject(decoding: damaged) }
    }

    @Test(
        "a file named by its chunks alone is kind 5, without a SHA-256, and round-trips; one without chunks is refused")
    func treeEntryNamedByChunks() throws {
        let chunks = [1, 2].map { ChunkEntry(length: 70_000, hash: HistoryFixture.sha256([$0])) }
        let byChunks = FileContent(sha256: nil, chunks: chunks, inode: 42, ctimeNs: 7)
        let entry = TreeEntry(
            name: "f", mode: 0o644, uid: 1, gid: 2, mtimeNs: 3, size: 140_000, content: .file(byChunks))
        let tree = TreeObject(entries: [entry])
        let bytes = tree.encoded()
        let decoded = try TreeObject(decoding: bytes)
        #expect(decoded == tree)
        #expect(decoded.entries[0].file?.sha256 == nil)
        var whole = byChunks
        whole.sha256 = HistoryFixture.sha256([9])
        let wholeBytes = TreeObject(entries: [
            TreeEntry(name: "f", mode: 0o644, uid: 1, gid: 2, mtimeNs: 3, size: 140_000, content: .file(whole))
        ]).encoded()
        #expect(wholeBytes.count == bytes.count + 32)
        #expect(
            byChunks.sameContent(as: whole)
                && !whole.sameContent(
                    as: FileContent(sha256: HistoryFixture.sha256([8]), chunks: chunks, inode: 1, ctimeNs: 1))
        )
        // Kind 5 with an empty chunk list names no content.
        let empty = TreeObject(entries: [
            TreeEntry(
                name: "f", mode: 0o644, uid: 1, gid: 2, mtimeNs: 3, size: 0,
                content: .file(FileContent(sha256: nil, chunks: [], inode: 1, ctimeNs: 1)))
        ])
        #expect(throws: (any Error).self) { try TreeObject(decoding: empty.encoded()) }
    }

    @Test("a folder with extended attributes encodes as FSTREE02 and round-trips; one without keeps FSTREE01")
    func treeObjectWithXattrs() throws {
        let plain = TreeEntry(name: "a", mode: 0o755, uid: 1, gid: 2, mtimeNs: 3, size: 0, content: .symlink([1]))
        #expect(TreeObject(entries: [plain]).encoded().prefix(8) == Array("FSTREE01".utf8)[...])
        var attributed = plain
        attributed.name = "b"
        attributed.content = .folder(HistoryFixture.sha256([2]))
        attributed.xattrs = [
            ExtendedAttribute(name: "system.posix_acl_default", value: [2, 0, 0, 0]),
            ExtendedAttribute(name: "user.x", value: []),
        ]
        let tree = TreeObject(entries: [plain, attributed])
        let bytes = tree.encoded()
        #expect(bytes.prefix(8) == Array("FSTREE02".utf8)[...])
        #expect(try TreeObject(decoding: bytes) == tree)
        #expect(try TreeObject(decoding: bytes).entry(named: "b")?.xattrs == attributed.xattrs)
        #expect(throws: (any Error).self) { try TreeObject(decoding: Array(bytes.dropLast())) }
    }

    @Test(
        "a snapshot after one whose folder listing is unreadable: the guard counts that folder's files as changed",
        arguments: [(6, true), (3, false)])
    func unreadableFolderCountsForTheGuard(filesInFolder: Int, protects: Bool) throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        let first = try fixture.snapshotWithUnreadableFolder(filesInFolder: filesInFolder)

        let second = try fixture.snapshot(at: 1_800_000_060)
        #expect(second.unreadableTrees == 1)
        #expect((second.record.added, second.record.changed, second.record.deleted) == (filesInFolder, 0, 0))
        #expect(try fixture.store.protectBeforeDamage(after: second.record) == nil, "nothing changed that it saw")
        let protected = try fixture.store.protectBeforeDamage(after: second.record, comparedInFull: false)
        #expect((protected?.id == first.record.id) == protects)
        let records = try fixture.store.snapshots().records
        #expect((records.first?.protected != nil) == protects)
    }

    @Test("a file that changes on every run: the guard protects the first snapshot only, not each one")
    func churnProtectsOnce() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try fixture.write("dump", [0])
        var protectedIDs: [String] = []
        for run in 0..<4 {
            if run > 0 { _ = try fixture.replace("dump", with: [UInt8(run), 1]) }
            let result = try fixture.snapshot(at: 1_800_000_000 + Double(run) * 3_600)
            if let target = try fixture.store.protectBeforeDamage(after: result.record) {
                protectedIDs.append(target.id)
            }
        }
        let records = try fixture.store.snapshots().records
        #expect(records.count == 4)
        #expect(protectedIDs == [records[0].id])
        #expect(records.map { $0.protected != nil } == [true, false, false, false])
    }

    @Test("a folder gone since a snapshot whose listing of it is unreadable counts for the guard as uncompared")
    func unreadableDeletedFolder() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        let first = try fixture.snapshotWithUnreadableFolder(filesInFolder: 6)
        // The folder renamed: its files look added, and the old one's count cannot be read.
        #expect(rename(fixture.tree + "/d", fixture.tree + "/e") == 0)
        let second = try fixture.snapshot(at: 1_800_000_060)
        #expect(second.unreadableTrees == 1)
        let protected = try fixture.store.protectBeforeDamage(
            after: second.record, comparedInFull: second.unreadableTrees == 0)
        #expect(protected?.id == first.record.id)
    }
}
