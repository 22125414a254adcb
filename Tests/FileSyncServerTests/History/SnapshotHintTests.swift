import FileSyncCore
import FileSyncSystem
import Foundation
import TestSupport
import Testing

@testable import FileSyncServer

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Snapshot hints from the chunk catalog") struct SnapshotHintTests {
    @Test("a recorded chunk list with this server's boundaries is taken as it is; any other is refused")
    func boundariesDecide() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        let bytes = TestData.random(5 << 20, seed: 7)
        try fixture.write("big", bytes)
        let fd = open(fixture.tree + "/big", O_RDONLY)
        defer { close(fd) }
        let full = try HistoryChunking.cut(fd, size: Int64(bytes.count))
        #expect(full.chunks.count > 4)
        #expect(try HistoryChunking.cut(fd, size: full.size, expecting: full.chunks, sha256: full.sha256) == full)
        // Without a recorded SHA-256 (a file patched in place), the whole hash is computed on the way.
        #expect(try HistoryChunking.cut(fd, size: full.size, expecting: full.chunks, sha256: nil) == full)

        // Another cutter's boundaries (the first two chunks as one), a list that stops short, and
        // one that runs past the end are not this server's cut.
        var merged = Array(full.chunks.dropFirst(2))
        merged.insert(ChunkEntry(length: full.chunks[0].length + full.chunks[1].length, hash: full.sha256!), at: 0)
        #expect(try HistoryChunking.cut(fd, size: full.size, expecting: merged, sha256: full.sha256) == nil)
        let short = Array(full.chunks.dropLast())
        #expect(try HistoryChunking.cut(fd, size: full.size, expecting: short, sha256: full.sha256) == nil)
        let long = full.chunks + [full.chunks[0]]
        #expect(try HistoryChunking.cut(fd, size: full.size, expecting: long, sha256: full.sha256) == nil)
    }

    @Test("a snapshot takes the catalog's record of an unchanged file, and cuts a file changed since")
    func snapshotUsesTheCatalog() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        let bytes = TestData.random(3 << 20, seed: 9)
        try fixture.write("big", bytes)
        let fd = open(fixture.tree + "/big", O_RDONLY)
        let full = try HistoryChunking.cut(fd, size: Int64(bytes.count))
        close(fd)
        let status = try #require(FileStatus.of(path: fixture.tree + "/big"))
        let catalog = try ChunkCatalog(directory: fixture.store.statePath)
        // A marker hash the content does not have shows which way the snapshot went.
        let marker = [UInt8]([1, 2, 3]).withUnsafeBytes { ChunkHash(of: $0) }
        try catalog.record(
            path: "big", size: status.size, mtimeNs: status.mtimeNs, inode: status.inode, ctimeNs: status.ctimeNs,
            chunks: full.chunks, sha256: marker)
        let hinted = try SnapshotBuilder(store: fixture.store, hints: catalog).build(now: Date())
        #expect(try fixture.store.entry(at: "big", in: hinted.record)?.file?.sha256 == marker)
        #expect(try fixture.store.entry(at: "big", in: hinted.record)?.file?.chunks == full.chunks)

        // Touched since it was recorded: cut and hashed as usual.
        try fixture.write("big", bytes)
        let later = try SnapshotBuilder(store: fixture.store, hints: catalog).build(now: Date().addingTimeInterval(60))
        #expect(try fixture.store.entry(at: "big", in: later.record)?.file?.sha256 == full.sha256)
    }

    @Test("a record cut by a chunkerV1 client is taken without reading the file; others are checked against it")
    func historyCutIsTrusted() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        let bytes = TestData.random(3 << 20, seed: 11)
        try fixture.write("big", bytes)
        let fd = open(fixture.tree + "/big", O_RDONLY)
        let full = try HistoryChunking.cut(fd, size: Int64(bytes.count))
        close(fd)
        let catalog = try ChunkCatalog(directory: fixture.store.statePath)
        // Boundaries the file does not have (the first two chunks as one) show which way it went:
        // only a read-back of the file can tell them from its own.
        var merged = Array(full.chunks.dropFirst(2))
        merged.insert(ChunkEntry(length: full.chunks[0].length + full.chunks[1].length, hash: full.sha256!), at: 0)
        var minute = 0.0
        // How many files the last snapshot read.
        var lastRead = -1
        // Stores the file again (a new version for the snapshot), records `chunks` for it, and
        // returns the chunks its snapshot took.
        func snapshotFile(
            recording chunks: [ChunkEntry], historyCut: Bool, sha256: ChunkHash? = full.sha256
        ) throws -> FileContent? {
            try fixture.write("big", bytes)
            let status = try #require(FileStatus.of(path: fixture.tree + "/big"))
            try catalog.record(
                path: "big", size: status.size, mtimeNs: status.mtimeNs, inode: status.inode,
                ctimeNs: status.ctimeNs, chunks: chunks, sha256: sha256, historyCut: historyCut)
            minute += 60
            let built = try SnapshotBuilder(store: fixture.store, hints: catalog).build(
                now: Date().addingTimeInterval(minute))
            lastRead = built.filesRead
            return try fixture.store.entry(at: "big", in: built.record)?.file
        }
        func snapshotChunks(recording chunks: [ChunkEntry], historyCut: Bool) throws -> [ChunkEntry]? {
            try snapshotFile(recording: chunks, historyCut: historyCut)?.chunks
        }
        #expect(try snapshotChunks(recording: merged, historyCut: true) == merged)
        #expect(lastRead == 0, "a trusted record is taken without reading the file")
        #expect(try snapshotChunks(recording: merged, historyCut: false) == full.chunks)
        #expect(lastRead == 1)
        // A trusted record whose lengths cannot be this file's is not taken either.
        #expect(try snapshotChunks(recording: Array(merged.dropLast()), historyCut: true) == full.chunks)
        // A trusted record without a whole SHA-256 (the session hashed only the chunks) names the
        // file by its chunks: nobody hashes the whole. An untrusted one is read back and hashed.
        let byChunks = try snapshotFile(recording: merged, historyCut: true, sha256: nil)
        #expect(byChunks?.chunks == merged && byChunks?.sha256 == nil)
        let readBack = try snapshotFile(recording: full.chunks, historyCut: false, sha256: nil)
        #expect(readBack?.chunks == full.chunks && readBack?.sha256 == full.sha256)
    }

    @Test("the names of one file take one content, and a file named anew by its chunks is changed, not deleted")
    func linkedNamesAndKinds() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        let bytes = TestData.random(3 << 20, seed: 13)
        try fixture.write("big", bytes)
        #expect(link(fixture.tree + "/big", fixture.tree + "/same") == 0)
        let fd = open(fixture.tree + "/big", O_RDONLY)
        let full = try HistoryChunking.cut(fd, size: Int64(bytes.count))
        close(fd)
        let catalog = try ChunkCatalog(directory: fixture.store.statePath)
        let status = try #require(FileStatus.of(path: fixture.tree + "/big"))
        // Only the name the client sent is cataloged (a link is made by the server, not sent).
        try catalog.record(
            path: "big", size: status.size, mtimeNs: status.mtimeNs, inode: status.inode, ctimeNs: status.ctimeNs,
            chunks: full.chunks, sha256: nil, historyCut: true)
        let first = try SnapshotBuilder(store: fixture.store, hints: catalog).build(now: Date())
        let big = try fixture.store.entry(at: "big", in: first.record)?.file
        let same = try fixture.store.entry(at: "same", in: first.record)?.file
        // Whichever name comes first decides (the cataloged one is named by its chunks, the other
        // cut and hashed); the other takes its content, without reading the file again.
        #expect(big != nil && big == same, "both names take the content found for the first")
        // Read only if the other name came first: the cataloged one is named without reading.
        #expect(first.filesRead <= 1)

    }

    @Test("a file named by its chunks, then cut and hashed (kind 5, then 1), is a changed file, not a deleted one")
    func kindChangeIsAChange() throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        let bytes = TestData.random(3 << 20, seed: 17)
        try fixture.write("solo", bytes)
        let fd = open(fixture.tree + "/solo", O_RDONLY)
        let full = try HistoryChunking.cut(fd, size: Int64(bytes.count))
        close(fd)
        let catalog = try ChunkCatalog(directory: fixture.store.statePath)
        let status = try #require(FileStatus.of(path: fixture.tree + "/solo"))
        try catalog.record(
            path: "solo", size: status.size, mtimeNs: status.mtimeNs, inode: status.inode, ctimeNs: status.ctimeNs,
            chunks: full.chunks, sha256: nil, historyCut: true)
        let first = try SnapshotBuilder(store: fixture.store, hints: catalog).build(now: Date())
        #expect(try fixture.store.entry(at: "solo", in: first.record)?.file?.sha256 == nil)
        try fixture.write("solo", bytes)
        let second = try SnapshotBuilder(store: fixture.store, hints: catalog).build(now: Date().addingTimeInterval(60))
        #expect(try fixture.store.entry(at: "solo", in: second.record)?.file?.sha256 == full.sha256)
        #expect(second.record.deleted == 0 && second.record.changed == 1 && second.record.added == 0)
    }
}
