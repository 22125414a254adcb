import FileSyncCore
import FileSyncSystem
import Foundation
import TestSupport
import Testing

@testable import FileSyncServer

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Snapshots of the small files a session stored") struct StoredFileDigestsTests {
    /// Stores `bytes` at `path` as a file frame is stored (checked, then written unnamed or into a
    /// partial), ready to commit.
    static func stored(
        _ path: String, _ bytes: [UInt8], unnamed: Bool, setup: CatalogReadBackTests.Setup
    ) throws -> PendingRename {
        let header = FileHeader(path: path, size: Int64(bytes.count), mtimeNs: 1_700_000_000_000_000_000, mode: 0o640)
        let folder = try ClientFolder(root: setup.root, id: try ClientID(validating: "c"))
        return try bytes.withUnsafeBytes { raw in
            try IncomingFile.store(
                raw, sha256: ChunkHash(of: raw), header: header, path: try RelativePath(validating: path),
                store: setup.partials, folder: folder, unnamed: unnamed)
        }
    }

    /// The client's history and the snapshot built with `stored`.
    static func snapshot(
        of setup: CatalogReadBackTests.Setup, stored: StoredFileDigests
    ) throws -> (HistoryStore, SnapshotBuilder.Result) {
        let store = try HistoryStore(root: setup.root, id: try ClientID(validating: "c"))
        var builder = SnapshotBuilder(store: store)
        builder.stored = stored
        return (store, try builder.build(now: Date(timeIntervalSince1970: 1_800_000_000)))
    }

    @Test("the snapshot names the files a session stored by the hashes it checked, without reading them")
    func storedFilesAreNotRead() async throws {
        let setup = try CatalogReadBackTests.Setup()
        defer { setup.remove() }
        let files = [
            "a.txt": TestData.random(4096, seed: 1), "sub/b.bin": TestData.random(70_000, seed: 2),
            "empty": [UInt8](),
        ]
        let renames = try [
            Self.stored("a.txt", files["a.txt"]!, unnamed: true, setup: setup),
            Self.stored("sub/b.bin", files["sub/b.bin"]!, unnamed: false, setup: setup),
            Self.stored("empty", [], unnamed: true, setup: setup),
        ]
        let results = await setup.committer.commit(renames)
        #expect(results.allSatisfy { $0.succeeded }, "\(results)")
        let digests = await setup.committer.storedDigests
        #expect(digests.count == 3)

        let (store, result) = try Self.snapshot(of: setup, stored: digests)
        #expect(result.filesRead == 0)
        #expect(result.record.added == 3)
        for (path, bytes) in files {
            let file = try #require(try store.entry(at: path, in: result.record)?.file)
            #expect(file.sha256 == bytes.withUnsafeBytes { ChunkHash(of: $0) }, "\(path)")
            #expect(try ContentResolver(store: store).contents(of: file, at: path) == bytes, "\(path)")
        }
    }

    @Test("a new version placed over the old one (unnamed or from a partial) is noted as the file now in place")
    func replacedFilesAreNotedAsPlaced() async throws {
        let setup = try CatalogReadBackTests.Setup()
        defer { setup.remove() }
        let old = [
            try Self.stored("u", TestData.random(5000, seed: 5), unnamed: true, setup: setup),
            try Self.stored("n", TestData.random(6000, seed: 6), unnamed: false, setup: setup),
        ]
        #expect(await setup.committer.commit(old).allSatisfy { $0.succeeded })
        let new = ["u": TestData.random(5000, seed: 7), "n": TestData.random(6000, seed: 8)]
        // The unnamed file finds "u" taken and goes through the partial folder; "n" is renamed over.
        let replacements = [
            try Self.stored("u", new["u"]!, unnamed: true, setup: setup),
            try Self.stored("n", new["n"]!, unnamed: false, setup: setup),
        ]
        #expect(await setup.committer.commit(replacements).allSatisfy { $0.succeeded })
        let digests = await setup.committer.storedDigests

        let (store, result) = try Self.snapshot(of: setup, stored: digests)
        #expect(result.filesRead == 0)
        for (path, bytes) in new {
            let file = try #require(try store.entry(at: path, in: result.record)?.file)
            #expect(file.sha256 == bytes.withUnsafeBytes { ChunkHash(of: $0) }, "\(path)")
            #expect(try ContentResolver(store: store).contents(of: file, at: path) == bytes, "\(path)")
        }
    }

    @Test("a stored file changed since its commit (same size and mtime) is read and hashed as usual")
    func changedFileIsRead() async throws {
        let setup = try CatalogReadBackTests.Setup()
        defer { setup.remove() }
        let original = TestData.random(8192, seed: 3)
        let rename = try Self.stored("doc", original, unnamed: true, setup: setup)
        #expect(await setup.committer.commit([rename]).allSatisfy { $0.succeeded })
        let digests = await setup.committer.storedDigests

        // Another file of the same size and mtime renamed over it: another inode.
        var changed = original
        changed[100] ^= 0xFF
        let path = setup.root + "/c/doc"
        try Data(changed).write(to: URL(fileURLWithPath: path + ".new"))
        let time = timespec(tv_sec: 1_700_000_000, tv_nsec: 0)
        #expect(utimensat(AT_FDCWD, path + ".new", [time, time], 0) == 0)
        #expect(Glibc.rename(path + ".new", path) == 0)

        let (store, result) = try Self.snapshot(of: setup, stored: digests)
        #expect(result.filesRead == 1)
        let file = try #require(try store.entry(at: "doc", in: result.record)?.file)
        #expect(file.sha256 == changed.withUnsafeBytes { ChunkHash(of: $0) })
    }

    @Test("only regular files under the single-chunk limit are noted, and only an unchanged one matches")
    func notesSmallFilesOnly() throws {
        let hash = [UInt8]([7]).withUnsafeBytes { ChunkHash(of: $0) }
        var info = stat()
        info.st_mode = S_IFREG | 0o644
        (info.st_size, info.st_ino, info.st_nlink) = (10, 42, 1)
        info.st_mtim = timespec(tv_sec: 5, tv_nsec: 0)
        info.st_ctim = timespec(tv_sec: 6, tv_nsec: 0)
        var status = FileStatus(info)
        var digests = StoredFileDigests()
        digests.note(status, sha256: hash)
        #expect(digests.content(of: status)?.sha256 == hash)
        #expect(digests.content(of: status)?.chunks == [ChunkEntry(length: 10, hash: hash)])
        var later = status
        later.ctimeNs += 1
        #expect(digests.content(of: later) == nil)
        later = status
        later.size += 1
        #expect(digests.content(of: later) == nil)

        status.inode = 43
        status.size = Int64(HistoryChunking.singleChunkLimit)
        digests.note(status, sha256: hash)
        #expect(digests.count == 1)
        status.inode = 44
        status.size = 10
        status.kind = .directory
        digests.note(status, sha256: hash)
        #expect(digests.count == 1)
    }
}
