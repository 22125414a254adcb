import Crypto
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// Sparse files (Protocol.md §6.3): holes cost next to nothing on the wire, on the server's disk
    /// and in a restore, and the content is the same by SHA-256.
    @Suite("Sparse files") struct SparseFileTests {
        /// Bytes allocated on disk for the file at `path` (`du`).
        static func allocated(_ path: String) -> Int {
            var info = stat()
            return lstat(path, &info) == 0 ? Int(info.st_blocks) * 512 : -1
        }

        static func sha256(_ path: String) throws -> String {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            var hasher = SHA256()
            while let block = try handle.read(upToCount: 4 << 20), !block.isEmpty { hasher.update(data: block) }
            return hasher.finalize().map { String(format: "%02x", $0) }.joined()
        }

        @Test("a 256 MiB file with 1 MiB of data: about 1 MiB on the wire, on the server's disk and restored")
        func sparseImage() throws {
            let work = try TemporaryDirectory("sparse")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let image = source + "/disk.img"
            let fd = open(image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            try #require(fd >= 0)
            let data = [UInt8]((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
            #expect(data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 100 << 20) } == data.count)
            #expect(ftruncate(fd, 256 << 20) == 0)
            close(fd)
            #expect(Self.allocated(image) <= 2 << 20)

            let server = try ServerProcess(root: root, in: work)
            let result = try runClient(["--source", source, "--id", "sp", "--json"] + server.connect, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            let onWire = try result.json()["bytesOnWire"] as? Int ?? -1
            #expect(onWire > 0 && onWire < 4 << 20, "\(onWire) bytes on the wire")
            let stored = root + "/sp/disk.img"
            #expect(Self.allocated(stored) <= 2 << 20, "the stored copy allocates \(Self.allocated(stored)) bytes")
            #expect(try Self.sha256(stored) == (try Self.sha256(image)))

            let target = try work.subfolder("restored")
            let restored = try HistoryClient(server: server, work: work).restore(id: "sp", to: target)
            #expect(restored.status == 0, "\(restored.stderr)")
            let copy = target + "/disk.img"
            #expect(Self.allocated(copy) <= 2 << 20, "the restored copy allocates \(Self.allocated(copy)) bytes")
            #expect(try Self.sha256(copy) == (try Self.sha256(image)))
        }
    }
}
