import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite("Delta transfers") struct DeltaTests {
        static let size = 64 << 20

        /// Backs up `source` and returns the client's JSON summary, checking the stored tree after.
        private static func backup(
            _ source: String, root: String, server: ServerProcess, work: TemporaryDirectory, extra: [String] = []
        ) throws -> [String: Any] {
            let result = try runClient(
                ["--source", source, "--id", "d"] + server.connect + ["--json"] + extra, in: work)
            #expect(result.status == 0, "\(result.stderr)")
            let stored = try TreeSnapshot(of: root + "/d")
            let wanted = try TreeSnapshot(of: source)
            #expect(stored == wanted, "differences: \(stored.differences(from: wanted))")
            return try result.json()
        }

        private static func wire(_ summary: [String: Any]) -> Int { summary["bytesOnWire"] as? Int ?? Int.max }

        @Test(
            "a changed byte, an inserted byte, a rename and an append each send under 1% of a 64 MiB file (append: ≤ 1.1× the new bytes)"
        )
        func editsInsertionsRenamesAppends() throws {
            let work = try TemporaryDirectory("delta")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work)
            let file = source + "/disk.img"
            try SampleTree.writeLarge(Self.size, to: file, seed: 5)

            let first = try Self.backup(source, root: root, server: server, work: work)
            #expect(Self.wire(first) > Self.size, "the first backup sends everything")

            // One byte changed in the middle.
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            bytes[Self.size / 2] ^= 0xFF
            try SampleTree.write(bytes, to: file)
            let changed = try Self.backup(source, root: root, server: server, work: work)
            #expect(Self.wire(changed) < Self.size / 100, "changed byte: \(Self.wire(changed)) bytes on the wire")

            // One byte inserted at the start.
            bytes.insert(0x42, at: 0)
            try SampleTree.write(bytes, to: file)
            let inserted = try Self.backup(source, root: root, server: server, work: work)
            #expect(Self.wire(inserted) < Self.size / 100, "inserted byte: \(Self.wire(inserted)) bytes on the wire")

            // Renamed into another folder, the old name mirrored away.
            try FileManager.default.createDirectory(atPath: source + "/moved", withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: file, toPath: source + "/moved/renamed.img")
            let renamed = try Self.backup(source, root: root, server: server, work: work, extra: ["--delete"])
            #expect(Self.wire(renamed) < Self.size / 100, "rename: \(Self.wire(renamed)) bytes on the wire")
            #expect(!FileManager.default.fileExists(atPath: root + "/d/disk.img"))

            // 8 MiB appended.
            let appended = 8 << 20
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: source + "/moved/renamed.img"))
            try handle.seekToEnd()
            var generator = SampleTree.Generator(seed: 9)
            try handle.write(contentsOf: SampleTree.bytes(appended, &generator))
            try handle.close()
            let grown = try Self.backup(source, root: root, server: server, work: work)
            #expect(Self.wire(grown) >= appended, "the appended bytes are new: they must travel")
            #expect(Double(Self.wire(grown)) <= 1.1 * Double(appended), "append: \(Self.wire(grown)) bytes on the wire")
            #expect(server.log.contains("bytes reused from stored chunks"))
        }

        @Test("a stored file changed behind the catalog's back is never used as a source: the backup stays exact")
        func staleCatalog() throws {
            let work = try TemporaryDirectory("stale")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work)
            let file = source + "/data.bin"
            try SampleTree.writeLarge(8 << 20, to: file, seed: 11)
            _ = try Self.backup(source, root: root, server: server, work: work)

            // Someone overwrites the middle of the stored copy and puts its mtime back.
            let stored = root + "/d/data.bin"
            var info = stat()
            #expect(stat(stored, &info) == 0)
            let fd = open(stored, O_WRONLY)
            #expect(fd >= 0)
            let junk = [UInt8](repeating: 0xAB, count: 1 << 20)
            #expect(pwrite(fd, junk, junk.count, 3 << 20) == junk.count)
            var times = [info.st_atim, info.st_mtim]
            #expect(futimens(fd, &times) == 0)
            close(fd)

            // The client changes one byte elsewhere: the server must not copy the damaged chunks.
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            bytes[100] ^= 1
            try SampleTree.write(bytes, to: file)
            let arguments = ["--source", source, "--id", "d"] + server.connect + ["--json"]
            let firstTry = try runClient(arguments, in: work)
            // The damaged chunks come after the changed one, so the server copies them, catches the
            // damage by their hash, and fails that file rather than store it (exit 23).
            #expect(firstTry.status == 23, "\(firstTry.stderr)")
            #expect(firstTry.stderr.contains("no longer matches the catalog"), "\(firstTry.stderr)")
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: stored))) != bytes)
            // The catalog forgot the damaged copy: the next run sends those chunks again.
            let secondTry = try runClient(arguments, in: work)
            #expect(secondTry.status == 0, "\(secondTry.stderr)")
            // In the end the stored copy is exact.
            #expect(try TreeSnapshot(of: root + "/d") == TreeSnapshot(of: source))
        }
    }
}
