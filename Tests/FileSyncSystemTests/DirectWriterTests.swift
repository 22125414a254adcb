import Crypto
import Foundation
import Testing

@testable import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Direct writer") struct DirectWriterTests {
    /// A scratch file in a fresh folder, removed afterwards.
    static func withScratchFile(_ body: (_ path: String, _ fd: Int32) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("direct-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/file"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        try body(path, fd)
    }

    /// Deterministic bytes that differ at every offset a misplaced block could land on.
    static func content(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    /// Appends `content` in pieces of varying, mostly unaligned sizes.
    static func append(_ content: [UInt8], to writer: DirectWriter) -> Bool {
        let sizes = [1, 4095, 4097, 65_536, 1_000_003, 3, 5 << 20]
        var start = 0
        var turn = 0
        return content.withUnsafeBytes { all in
            while start < all.count {
                let end = min(all.count, start + sizes[turn % sizes.count])
                guard writer.append(UnsafeRawBufferPointer(rebasing: all[start..<end])) else { return false }
                start = end
                turn += 1
            }
            return true
        }
    }

    @Test("a file written in unaligned pieces reads back exactly, its unaligned end included")
    func unalignedPieces() throws {
        try Self.withScratchFile { path, fd in
            let content = Self.content(3 * DirectWriter.capacity + 12_345, seed: 1)
            let writer = try #require(DirectWriter(fd: fd, offset: 0), "this filesystem supports O_DIRECT")
            #expect(Self.append(content, to: writer))
            #expect(writer.finish())
            #expect(writer.offset == Int64(content.count))
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == content)
        }
    }

    @Test("a hashing writer's digest is the SHA-256 of every byte appended, in order; a plain one has none")
    func hashesWhatItWrites() throws {
        try Self.withScratchFile { _, fd in
            let content = Self.content(2 * DirectWriter.capacity + 777, seed: 3)
            let writer = try #require(DirectWriter(fd: fd, offset: 0, hashing: true))
            #expect(writer.hashes)
            #expect(Self.append(content, to: writer))
            #expect(writer.finish())
            #expect(writer.digest == Array(SHA256.hash(data: content)))
        }
        try Self.withScratchFile { _, fd in
            let writer = try #require(DirectWriter(fd: fd, offset: 0))
            #expect(Self.append(Self.content(10_000, seed: 4), to: writer))
            #expect(writer.finish())
            #expect(!writer.hashes && writer.digest == nil)
        }
    }

    @Test("a resumed partial continues at an unaligned offset without disturbing the bytes before it")
    func unalignedStart() throws {
        try Self.withScratchFile { path, fd in
            let prefix = Self.content(10_001, seed: 2)
            #expect(prefix.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == prefix.count)
            let rest = Self.content(DirectWriter.capacity + 777, seed: 3)
            let writer = try #require(DirectWriter(fd: fd, offset: Int64(prefix.count)))
            #expect(Self.append(rest, to: writer))
            #expect(writer.finish())
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == prefix + rest)
        }
    }

    @Test("whole blocks bypass the page cache; only the unaligned end is cached")
    func bypassesPageCache() throws {
        try Self.withScratchFile { _, fd in
            let content = Self.content(2 * DirectWriter.capacity + 100, seed: 4)
            let writer = try #require(DirectWriter(fd: fd, offset: 0))
            #expect(Self.append(content, to: writer))
            #expect(writer.finish())
            let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
            let pages = (content.count + pageSize - 1) / pageSize
            let mapping = try #require(mmap(nil, content.count, PROT_READ, MAP_SHARED, fd, 0))
            try #require(mapping != MAP_FAILED)
            defer { munmap(mapping, content.count) }
            var resident = [UInt8](repeating: 0, count: pages)
            #expect(mincore(mapping, content.count, &resident) == 0)
            let cached = resident.indices.filter { resident[$0] & 1 != 0 }
            #expect(cached.count == 1, "\(cached.count) of \(pages) pages cached")
            #expect(cached.first == pages - 1, "only the last, partly filled page went through the page cache")
        }
    }

    @Test("blocks written on the writer's thread all land even when the caller closes its descriptor first")
    func outlivesCallersDescriptor() throws {
        try Self.withScratchFile { path, _ in
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            try #require(fd >= 0)
            let content = Self.content(5 * DirectWriter.capacity + 4_321, seed: 5)
            let writer = try #require(DirectWriter(fd: fd, offset: 0))
            #expect(Self.append(content, to: writer))
            close(fd)
            #expect(writer.finish())
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == content)
        }
    }

    @Test("a write that fails on the writer's thread is reported by finish, with its errno")
    func reportsFailedWrite() throws {
        try Self.withScratchFile { path, _ in
            let readOnly = open(path, O_RDONLY | O_CLOEXEC)
            try #require(readOnly >= 0)
            defer { close(readOnly) }
            let writer = try #require(DirectWriter(fd: readOnly, offset: 0))
            _ = Self.append(Self.content(3 * DirectWriter.capacity, seed: 6), to: writer)
            errno = 0
            #expect(!writer.finish())
            #expect(errno == EBADF)
            #expect(![UInt8](repeating: 1, count: 10).withUnsafeBytes { writer.append($0) }, "later data is refused")
            var info = stat()
            #expect(stat(path, &info) == 0 && info.st_size == 0)
        }
    }

    @Test("blocks of zeros are left as holes, a zero end included: the file reads back exactly and holds only its data")
    func zeroBlocksAreHoles() throws {
        try Self.withScratchFile { path, fd in
            var content = [UInt8](repeating: 0, count: 4 * DirectWriter.capacity + 8192)
            let data = Self.content(1 << 20, seed: 3)
            content.replaceSubrange((6 << 20)..<(7 << 20), with: data)
            content[5] = 1  // a block that holds one byte is written
            let writer = try #require(DirectWriter(fd: fd, offset: 0), "this filesystem supports O_DIRECT")
            #expect(Self.append(content, to: writer))
            #expect(writer.finish())
            var info = stat()
            #expect(fstat(fd, &info) == 0)
            #expect(Int(info.st_size) == content.count)
            #expect(Int(info.st_blocks) * 512 <= (1 << 20) + 64 * 1024, "allocated \(info.st_blocks * 512) bytes")
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == content)
        }
    }
}
