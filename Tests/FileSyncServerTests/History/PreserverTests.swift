import FileSyncCore
import FileSyncSystem
import Foundation
import TestSupport
import Testing

@testable import FileSyncServer

#if canImport(Glibc)
    import Glibc
#endif

@Suite("History preserver and resolver") struct PreserverTests {
    /// The bytes of the chunks of `old` that `new` does not have: what a reverse delta must keep.
    static func changedChunkBytes(_ old: [UInt8], _ new: [UInt8], in fixture: HistoryFixture) throws -> Int64 {
        func cut(_ bytes: [UInt8]) throws -> HistoryChunking.Cut {
            let path = fixture.root + "/cut-" + UUID().uuidString
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let fd = open(path, O_RDONLY)
            defer { close(fd) }
            return try HistoryChunking.cut(fd, size: Int64(bytes.count))
        }
        let kept = Set(try cut(new).chunks.map(\.hash))
        return try cut(old).chunks.filter { !kept.contains($0.hash) }.reduce(0) { $0 + Int64($1.length) }
    }

    @Test("one byte changed in an 8 MiB file preserves only the changed chunks; the old version restores")
    func oneByteChanged() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        let old = TestData.random(8 << 20, seed: 11)
        try fixture.write("disk.img", old)
        let first = try fixture.snapshot()
        var new = old
        new[5_000_000] ^= 0xFF
        let changed = try Self.changedChunkBytes(old, new, in: fixture)
        #expect(changed > 0 && changed <= 2 * (512 << 10))
        let before = fixture.store.diskUsage().bytes
        let outcome = try fixture.replace("disk.img", with: new)
        let grown = fixture.store.diskUsage().bytes - before
        #expect(outcome.bytes == changed)
        #expect(outcome.packs.count == 1)
        #expect(grown <= changed + (64 << 10), "history grew by \(grown) bytes for \(changed) changed")
        let second = try fixture.snapshot(at: 1_800_000_060)
        #expect(second.record.changed == 1)
        let restored = try fixture.restore("disk.img", from: first.record)
        #expect(HistoryFixture.sha256(restored) == HistoryFixture.sha256(old))
        #expect(try fixture.restore("disk.img", from: second.record) == new)
    }

    @Test("a large file changed since the latest snapshot is cut again, not packed from the snapshot's list")
    func changedSinceTheSnapshot() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        let old = TestData.random(4 << 20, seed: 21)
        try fixture.write("disk.img", old)
        _ = try fixture.snapshot()
        // Rewritten behind the snapshot's back (as by a session that ended before its snapshot).
        var middle = old
        middle[100_000] ^= 0xFF
        try fixture.write("disk.img", middle)
        var new = middle
        new[3_000_000] ^= 0xFF
        let outcome = try fixture.replace("disk.img", with: new)
        #expect(outcome.bytes == (try Self.changedChunkBytes(middle, new, in: fixture)))
        #expect(outcome.bytes > 0)
    }

    @Test("a deleted file restores from the old snapshot, from its pack")
    func deletedFileRestores() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        let big = TestData.random(3 << 20, seed: 2)
        try fixture.write("docs/big.bin", big)
        try fixture.write("docs/small.txt", TestData.text(1000))
        let first = try fixture.snapshot()
        try fixture.delete("docs/big.bin")
        try fixture.delete("docs/small.txt")
        let second = try fixture.snapshot(at: 1_800_000_060)
        #expect(second.record.deleted == 2)
        #expect(try fixture.restore("docs/big.bin", from: first.record) == big)
        #expect(try fixture.restore("docs/small.txt", from: first.record) == TestData.text(1000))
        #expect(try fixture.store.entry(at: "docs/big.bin", in: second.record) == nil)
    }

    @Test("a batch packs many files into one pack and skips chunks already packed")
    func batchAndDeduplication() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        for index in 0..<20 { try fixture.write("f\(index)", TestData.random(10_000, seed: UInt64(index))) }
        try fixture.write("copy", TestData.random(10_000, seed: 0))
        let requests = (0..<20).map { Preserver.Request(relativePath: "f\($0)") } + [.init(relativePath: "copy")]
        let outcome = try Preserver(store: fixture.store).preserve(requests)
        #expect(outcome.packs.count == 1)
        #expect(outcome.chunks == 20)
        let again = try Preserver(store: fixture.store).preserve(requests)
        #expect(again == Preserver.Outcome())
    }

    @Test("a file replaced behind the server's back (other inode, same content) still resolves; a symlink does not")
    func identityAndSymlinks() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        let content = TestData.random(2 << 20, seed: 5)
        try fixture.write("a.bin", content)
        try fixture.write("b.bin", content)
        let record = try fixture.snapshot().record
        try fixture.write("elsewhere/a.bin", content)
        #expect(unlink(fixture.tree + "/a.bin") == 0)
        #expect(rename(fixture.tree + "/elsewhere/a.bin", fixture.tree + "/a.bin") == 0)
        #expect(try fixture.restore("a.bin", from: record) == content)
        #expect(rename(fixture.tree + "/b.bin", fixture.root + "/outside.bin") == 0)
        #expect(symlink(fixture.root + "/outside.bin", fixture.tree + "/b.bin") == 0)
        #expect(throws: FileSyncError.self) { try fixture.restore("b.bin", from: record) }
    }

    @Test("the engine cuts as clients do, so a delta transfer's chunk list can name the new version's chunks")
    func cutsLikeClients() {
        #expect(HistoryChunking.cutsLikeClients)
    }
}
