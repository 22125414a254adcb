import FileSyncCore
import FileSyncSystem
import Foundation
import TestSupport
import Testing

@testable import FileSyncServer

#if canImport(Glibc)
    import Glibc
#endif

@Suite("History pruner and checker") struct PrunerTests {
    static let keepTwo = RetentionPolicy(
        keepLast: 2, keepHourly: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0)

    /// Four snapshots s1...s4 of a tree whose files change between them, every old version
    /// preserved; the pack of round 3 holds dead chunks (a's second version) and live ones (`keep`,
    /// preserved although it did not change), so pruning to the last two deletes one pack and
    /// rewrites another.
    static func history(in fixture: HistoryFixture) throws -> [SnapshotRecord] {
        try fixture.write("keep", TestData.random(300_000, seed: 99))
        try fixture.write("big", TestData.random(3 << 20, seed: 100))
        try fixture.write("a", TestData.random(200_000, seed: 1))
        var records = [try fixture.snapshot(at: 1_800_000_000).record]
        for round in 2...4 {
            var big = TestData.random(3 << 20, seed: 100)
            big[round * 100_000] ^= 0xFF
            let requests: [Preserver.Request] =
                [.init(relativePath: "a"), .init(relativePath: "big")]
                + (round == 3 ? [.init(relativePath: "keep")] : [])
            try Preserver(store: fixture.store).preserve(requests)
            try fixture.write("a", TestData.random(200_000, seed: UInt64(round)))
            try fixture.write("big", big)
            records.append(try fixture.snapshot(at: 1_800_000_000 + Double(round) * 3600).record)
        }
        return records
    }

    /// Every file of `records` restores and hashes to its recorded SHA-256; the checker agrees.
    static func expectRestorable(_ records: [SnapshotRecord], in fixture: HistoryFixture) throws {
        for record in records {
            let files = try fixture.restoreAll(record)
            #expect(files.count == 3, "snapshot \(record.id)")
        }
        let damage = try HistoryChecker(store: fixture.store).check(readData: true)
        #expect(damage.isEmpty, "\(damage)")
    }

    @Test("prune removes what the policy drops, reclaims space and keeps the kept snapshots restorable")
    func pruneReclaims() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        let records = try Self.history(in: fixture)
        let before = fixture.store.diskUsage().bytes
        let pruner = Pruner(store: fixture.store, policy: Self.keepTwo)
        let dryRun = try pruner.prune(dryRun: true)
        #expect(dryRun.removed.map(\.id) == [records[0].id, records[1].id])
        #expect(try fixture.store.snapshots().records.count == 4, "a dry run deletes nothing")
        let report = try pruner.prune()
        #expect(report.completed)
        #expect((report.packsDeleted, report.packsWritten) == (2, 2))
        #expect(dryRun.bytesReclaimed > 400_000)
        #expect(report.bytesReclaimed > 400_000)
        #expect(before - fixture.store.diskUsage().bytes > 400_000)
        #expect(try fixture.store.snapshots().records.map(\.id) == [records[2].id, records[3].id])
        // `keep` now lives only in the rewritten pack.
        #expect(unlink(fixture.tree + "/keep") == 0)
        try Self.expectRestorable([records[2], records[3]], in: fixture)
    }

    @Test("a prune stopped after any of its steps leaves every kept snapshot restorable, and a rerun completes")
    func pruneCutShort() throws {
        var stopAt = 0
        var completed = false
        while !completed {
            var fixture = try HistoryFixture()
            defer { fixture.remove() }
            let records = try Self.history(in: fixture)
            var calls = 0
            var pruner = Pruner(store: fixture.store, policy: Self.keepTwo)
            pruner.afterStep = { _ in
                calls += 1
                return calls <= stopAt
            }
            completed = try pruner.prune().completed
            try fixture.reopen()
            try Self.expectRestorable([records[2], records[3]], in: fixture)
            let rerun = try Pruner(store: fixture.store, policy: Self.keepTwo).prune()
            #expect(rerun.completed)
            #expect(unlink(fixture.tree + "/keep") == 0)
            try Self.expectRestorable([records[2], records[3]], in: fixture)
            stopAt += 1
        }
        #expect(stopAt > 8, "the prune has fewer steps than expected: \(stopAt)")
    }

    @Test("the index is rebuilt from the packs when it is lost")
    func indexRebuilt() throws {
        var fixture = try HistoryFixture()
        defer { fixture.remove() }
        let records = try Self.history(in: fixture)
        for suffix in ["", "-wal", "-shm"] { unlink(fixture.store.path + "/index.sqlite" + suffix) }
        try fixture.reopen()
        #expect(unlink(fixture.tree + "/a") == 0)
        #expect(throws: FileSyncError.self) { try fixture.restore("a", from: records[3]) }
        #expect(try fixture.restore("a", from: records[2]) == TestData.random(200_000, seed: 3))
        try fixture.store.index.rebuildIndex()
        #expect(try fixture.restore("a", from: records[0]) == TestData.random(200_000, seed: 1))
    }

    @Test("the checker finds a flipped byte in a pack and a missing tree")
    func checkerFindsDamage() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        let records = try Self.history(in: fixture)
        #expect(try HistoryChecker(store: fixture.store).check(readData: true).isEmpty)
        // Flip one byte inside the chunk data of a pack holding a's first version.
        let aFirst = try #require(try fixture.store.entry(at: "a", in: records[0])?.file)
        let location = try #require(try fixture.store.index.location(of: aFirst.chunks[0].hash))
        let fd = open(fixture.store.packsPath + "/" + location.pack, O_RDWR)
        var byte: UInt8 = 0
        #expect(pread(fd, &byte, 1, off_t(location.offset + 1000)) == 1)
        byte ^= 0x01
        #expect(pwrite(fd, &byte, 1, off_t(location.offset + 1000)) == 1)
        close(fd)
        #expect(try HistoryChecker(store: fixture.store).check(readData: false).isEmpty, "presence only")
        let damage = try HistoryChecker(store: fixture.store).check(readData: true)
        #expect(damage.contains { $0.snapshotID == nil && $0.path == "packs/" + location.pack })
        #expect(damage.contains { $0.snapshotID == records[0].id && $0.path == "a" })
        // Remove the tree of the newest snapshot's root.
        let root = try #require(records[3].rootTreeHash)
        let (folder, name) = fixture.store.treeLocation(root)
        #expect(unlink(folder + "/" + name) == 0)
        let missing = try HistoryChecker(store: fixture.store).check(readData: false)
        #expect(missing.contains { $0.snapshotID == records[3].id && $0.path == "" && $0.problem.contains("missing") })
    }

    @Test("a snapshot file that does not decode stops the sweep: no pack or tree is deleted")
    func unreadableSnapshotStopsSweep() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        _ = try Self.history(in: fixture)
        let damaged = fixture.store.snapshotsPath + "/20261204T000000Z-00000000.json"
        try Data("{".utf8).write(to: URL(fileURLWithPath: damaged))
        let packs = PackIndex.packNames(in: fixture.store.packsPath).sorted()
        let trees = fixture.store.allTrees().count
        let report = try Pruner(store: fixture.store, policy: Self.keepTwo).prune()
        #expect(report.sweepSkipped != nil)
        #expect(!report.completed)
        #expect(PackIndex.packNames(in: fixture.store.packsPath).sorted() == packs)
        #expect(fixture.store.allTrees().count == trees)
    }
}
