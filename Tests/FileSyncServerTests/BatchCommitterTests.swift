import FileSyncCore
import Foundation
import Logging
import TestSupport
import Testing

@testable import FileSyncServer

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Batch committer") struct BatchCommitterTests {
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

    @Test("resumed files are cataloged from the stored file after the session; one changed since is skipped")
    func resumedFilesReadBack() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("committer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let id = try ClientID(validating: "c")
        let partials = try PartialStore(root: root, id: id)
        let catalog = try ChunkCatalog(directory: root + "/.filesync/c")
        let committer = try BatchCommitter(root: root, id: id, catalog: catalog)
        let kept = try Self.resumedPartial("disk.img", size: 5 << 20, seed: 1, in: partials)
        let changed = try Self.resumedPartial("sub/log.bin", size: 3 << 20, seed: 2, in: partials)

        let results = await committer.commit([kept, changed])
        #expect(results.allSatisfy { $0.succeeded }, "\(results)")
        // Committing records nothing for them: they came without a chunk list.
        #expect(try catalog.file(at: "disk.img") == nil)
        // Changed after its commit: no longer the file committed, so not cataloged.
        #expect(utimensat(AT_FDCWD, root + "/c/sub/log.bin", nil, 0) == 0)

        let recorded = await committer.catalogResumedFiles(logger: Logger(label: "test"))
        #expect(recorded == 1)
        #expect(try catalog.file(at: "sub/log.bin") == nil)
        let record = try #require(try catalog.file(at: "disk.img"))
        #expect(record.size == 5 << 20 && record.mtimeNs == kept.mtimeNs && record.inode == kept.inode)
        // The recorded chunks are those of the stored file, end to end.
        let fd = open(root + "/c/disk.img", O_RDONLY)
        defer { close(fd) }
        var reader = ChunkReader(fd: fd)
        var expected: [Int64: ChunkEntry] = [:]
        while let chunk = try reader.next() { expected[chunk.offset] = chunk.entry }
        #expect(expected.count > 1)
        #expect(try catalog.chunks(of: record, startingIn: 0..<record.size) == expected)
    }
}
