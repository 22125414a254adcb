import FileSyncCore
import FileSyncSystem
import Foundation
import Logging
import TestSupport
import Testing

@testable import FileSyncServer

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Catalog read-back") struct CatalogReadBackTests {
    /// A verified partial of `path` holding `size` pseudo-random bytes, as a resumed transfer
    /// leaves it, ready to commit.
    static func resumedPartial(
        _ path: String, size: Int, seed: UInt64, in partials: PartialStore
    ) throws -> PendingRename {
        let mtimeNs: Int64 = 1_700_000_000_123_456_789
        let (_, fd) = try partials.open(
            for: FileHeader(path: path, size: Int64(size), mtimeNs: mtimeNs, mode: 0o644), offset: 0)
        defer { close(fd) }
        let bytes = TestData.random(size, seed: seed)
        #expect(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == size)
        let time = timespec(tv_sec: Int(mtimeNs / 1_000_000_000), tv_nsec: Int(mtimeNs % 1_000_000_000))
        #expect(futimens(fd, [time, time]) == 0)
        var info = stat()
        #expect(fstat(fd, &info) == 0)
        let relative = try RelativePath(validating: path)
        var rename = PendingRename(
            path: relative, parentComponents: relative.parentComponents, size: Int64(size), mtimeNs: mtimeNs,
            inode: UInt64(info.st_ino), chunks: nil, descriptor: nil)
        rename.readsBackChunks = true
        return rename
    }

    /// A client folder under a new temporary root, its partial store, catalog and committer.
    struct Setup {
        let root: String
        let partials: PartialStore
        let catalog: ChunkCatalog
        let committer: BatchCommitter

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("read-back-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let id = try ClientID(validating: "c")
            let state = ClientStateDirectory(root: root, id: id)
            partials = try state.openPartials()
            catalog = try state.openCatalog()
            committer = try BatchCommitter(root: root, id: id, catalog: catalog)
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test("resumed files are cataloged from the stored file after the session; one changed since is skipped")
    func resumedFilesReadBack() async throws {
        let setup = try Setup()
        defer { setup.remove() }
        let kept = try Self.resumedPartial("disk.img", size: 5 << 20, seed: 1, in: setup.partials)
        let changed = try Self.resumedPartial("sub/log.bin", size: 3 << 20, seed: 2, in: setup.partials)

        let results = await setup.committer.commit([kept, changed])
        #expect(results.allSatisfy { $0.succeeded }, "\(results)")
        // Committing records nothing for them: they came without a chunk list.
        #expect(try setup.catalog.file(at: "disk.img") == nil)
        // Changed in place after its commit, same size and mtime: only its status-change time tells.
        let stored = setup.root + "/c/sub/log.bin"
        let handle = try #require(FileHandle(forUpdatingAtPath: stored))
        try handle.write(contentsOf: [0xFF])
        try handle.close()
        let time = timespec(tv_sec: Int(changed.mtimeNs / 1_000_000_000), tv_nsec: Int(changed.mtimeNs % 1_000_000_000))
        #expect(utimensat(AT_FDCWD, stored, [time, time], 0) == 0)

        let recorded = await setup.committer.readBack()?.run(logger: Logger(label: "test"))
        #expect(recorded == 1)
        #expect(try setup.catalog.file(at: "sub/log.bin") == nil)
        let record = try #require(try setup.catalog.file(at: "disk.img"))
        #expect(record.size == 5 << 20 && record.mtimeNs == kept.mtimeNs && record.inode == kept.inode)
        // The recorded chunks are those of the stored file, end to end.
        let fd = open(setup.root + "/c/disk.img", O_RDONLY)
        defer { close(fd) }
        var reader = ChunkReader(fd: fd)
        var expected: [Int64: ChunkEntry] = [:]
        while let chunk = try reader.next() { expected[chunk.offset] = chunk.entry }
        #expect(expected.count > 1)
        #expect(try setup.catalog.chunks(of: record, startingIn: 0..<record.size) == expected)
    }

    @Test("a cancelled read-back (the server stopping) records nothing")
    func cancelledReadBack() async throws {
        let setup = try Setup()
        defer { setup.remove() }
        let file = try Self.resumedPartial("disk.img", size: 2 << 20, seed: 3, in: setup.partials)
        _ = await setup.committer.commit([file])
        let readBack = try #require(await setup.committer.readBack())
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await readBack.run(logger: Logger(label: "test"))
        }
        #expect(await task.value == 0)
        #expect(try setup.catalog.file(at: "disk.img") == nil)
    }

    @Test("a session without resumed files leaves nothing to read back")
    func nothingToReadBack() async throws {
        let setup = try Setup()
        defer { setup.remove() }
        var file = try Self.resumedPartial("disk.img", size: 2 << 20, seed: 4, in: setup.partials)
        file.readsBackChunks = false
        _ = await setup.committer.commit([file])
        #expect(await setup.committer.readBack() == nil)
    }
}
