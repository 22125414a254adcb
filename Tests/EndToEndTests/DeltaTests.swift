import FileSyncCore
import FileSyncServer
import Foundation
import GRDB
import TestSupport
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

        /// The paths the server's chunk catalog records for client `id`.
        static func catalogedPaths(root: String, id: String) throws -> [String] {
            let catalog = try openCatalog(root: root, id: id)
            return try catalog.read { try String.fetchAll($0, sql: "SELECT path FROM file ORDER BY path") }
        }

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
            #expect(
                try Self.catalogedPaths(root: root, id: "d") == ["moved/renamed.img"], "the deleted path is forgotten")

            // 8 MiB appended.
            let appended = 8 << 20
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: source + "/moved/renamed.img"))
            try handle.seekToEnd()
            var generator = SeededGenerator(seed: 9)
            try handle.write(contentsOf: TestData.bytes(appended, from: &generator))
            try handle.close()
            let grown = try Self.backup(source, root: root, server: server, work: work)
            #expect(Self.wire(grown) >= appended, "the appended bytes are new: they must travel")
            #expect(Double(Self.wire(grown)) <= 1.1 * Double(appended), "append: \(Self.wire(grown)) bytes on the wire")
            #expect(server.log.contains(/reusedBytes=[0-9]+.*session finished/))
        }

        @Test(
            "a delta that outgrows the in-place limit after a round was journaled goes on as a copy and ends exact"
        )
        func patchTurnsIntoCopy() throws {
            let work = try TemporaryDirectory("delta-copy")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work, extra: Self.inPlace)
            let size = 256 << 20
            let file = source + "/disk.img"
            try SampleTree.writeLarge(size, to: file, seed: 21)
            _ = try Self.backup(source, root: root, server: server, work: work)

            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            // The first round (1,024 chunks, well over 64 MiB) changes one byte: journaled in place.
            bytes[1 << 20] ^= 0xFF
            // A later round brings 40 MiB of new content, past the 32 MiB an in-place patch may carry.
            var generator = SeededGenerator(seed: 22)
            let fresh = TestData.bytes(40 << 20, from: &generator)
            bytes.replaceSubrange((size - (48 << 20))..<(size - (8 << 20)), with: fresh)
            try SampleTree.write(bytes, to: file)
            let changed = try Self.backup(source, root: root, server: server, work: work)

            let outgrown = server.log.split(separator: "\n").first {
                $0.contains("outgrew the in-place patch's limit") && $0.contains("path=disk.img")
            }
            let journaled = outgrown?.firstMatch(of: /journaled=([0-9]+)/).flatMap { Int($0.1) }
            #expect((journaled ?? 0) > 0, "the first round was journaled, then turned into a copy")
            #expect(Self.wire(changed) >= 40 << 20, "the new content travels")
            #expect(Self.wire(changed) < 44 << 20, "and little else: \(Self.wire(changed)) bytes on the wire")
            #expect(try Self.catalogedPaths(root: root, id: "d") == ["disk.img"])
        }

        @Test(
            "a delta task in the first part of a task list that comes in parts waits for the last part, then its chunk requests"
        )
        func deltaBeforeTheLastTaskPart() throws {
            let work = try TemporaryDirectory("delta-parts")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work)
            // "a.img" sorts first, in the manifest's first part; the small files fill later parts.
            try SampleTree.writeLarge(2 << 20, to: source + "/a.img", seed: 41)
            try FileManager.default.createDirectory(atPath: source + "/z", withIntermediateDirectories: true)
            for index in 0..<1_500 { try SampleTree.write(Array("file \(index)".utf8), to: source + "/z/\(index)") }
            _ = try Self.backup(source, root: root, server: server, work: work)

            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: source + "/a.img")))
            bytes[bytes.count / 2] ^= 0xFF
            try SampleTree.write(bytes, to: source + "/a.img")
            try SampleTree.write(Array("changed".utf8), to: source + "/z/1499")
            let changed = try Self.backup(source, root: root, server: server, work: work)
            #expect(changed["sent"] as? Int == 2, "\(changed)")
            #expect(Self.wire(changed) < (2 << 20) / 4, "a delta, not a copy: \(Self.wire(changed)) bytes on the wire")
        }

        @Test("the client's chunk memos follow the source: a deleted file's memo is dropped at the next run")
        func memosFollowTheSource() throws {
            let work = try TemporaryDirectory("memos")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work)
            try SampleTree.writeLarge(2 << 20, to: source + "/kept.img", seed: 31)
            try SampleTree.writeLarge(2 << 20, to: source + "/dropped.img", seed: 32)
            try SampleTree.writeLarge(4096, to: source + "/small.txt", seed: 33)
            func memos() -> [String] {
                let cache = work.path + "/cache"
                let names = FileManager.default.enumerator(atPath: cache)?.compactMap { $0 as? String } ?? []
                return names.filter { $0.hasSuffix(".memo") }
            }
            _ = try Self.backup(source, root: root, server: server, work: work)
            #expect(memos().count == 2, "one memo per large file: \(memos())")

            try FileManager.default.removeItem(atPath: source + "/dropped.img")
            _ = try Self.backup(source, root: root, server: server, work: work, extra: ["--delete"])
            #expect(memos().count == 1, "only the kept file's memo is left: \(memos())")
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

        /// A server without history, so that these tests see the plain tree alone (with history it
        /// patches in place too: SnapshotTests covers what the history keeps of a patched file).
        static let inPlace = ["--no-history"]

        private static func inode(_ path: String) -> UInt64 {
            var info = stat()
            return stat(path, &info) == 0 ? UInt64(info.st_ino) : 0
        }

        @Test(
            "a changed byte patches the stored file in place, journal gone after; a hard-linked copy is replaced instead and its other link keeps the old content"
        )
        func inPlacePatch() throws {
            let work = try TemporaryDirectory("inplace")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work, extra: Self.inPlace)
            let file = source + "/disk.img"
            try SampleTree.writeLarge(8 << 20, to: file, seed: 21)
            _ = try Self.backup(source, root: root, server: server, work: work)
            let stored = root + "/d/disk.img"
            let original = Self.inode(stored)

            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            bytes[5 << 20] ^= 0xFF
            try SampleTree.write(bytes, to: file)
            let patched = try Self.backup(source, root: root, server: server, work: work)
            #expect(Self.wire(patched) < 1 << 20, "about one chunk of at most 512 KiB travels")
            #expect(Self.inode(stored) == original, "patched in place, not replaced")
            #expect(server.log.contains(/path=disk.img .*patched in place/))
            #expect(!FileManager.default.fileExists(atPath: root + "/.filesync/d/patch.journal"))

            // A snapshot of the backup by hard link must keep what it had.
            #expect(link(stored, root + "/snapshot.img") == 0)
            let snapshot = bytes
            bytes[1 << 20] ^= 0xFF
            try SampleTree.write(bytes, to: file)
            _ = try Self.backup(source, root: root, server: server, work: work)
            #expect(Self.inode(stored) != original, "a file with two links is never patched in place")
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: root + "/snapshot.img"))) == snapshot)
        }

        @Test(
            "a complete patch journal left by a crash is applied when the server starts again; a torn one is dropped and the file left alone"
        )
        func journalRecovery() throws {
            let work = try TemporaryDirectory("journal")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            var server = try ServerProcess(root: root, in: work, extra: Self.inPlace)
            try SampleTree.writeLarge(2 << 20, to: source + "/f.bin", seed: 31)
            _ = try Self.backup(source, root: root, server: server, work: work)
            server.stop()
            let stored = root + "/d/f.bin"
            let journalPath = root + "/.filesync/d/patch.journal"
            var expected = try [UInt8](Data(contentsOf: URL(fileURLWithPath: stored)))

            // The crash came after the journal was synced: the server completes the patch at start.
            let target = PatchJournal.Target(
                path: "f.bin", inode: Self.inode(stored), size: Int64(expected.count + 10),
                mtimeNs: 1_600_000_000_123_456_789, mode: 0o600)
            let middle = [UInt8](repeating: 0x5A, count: 100)
            let tail = [UInt8](repeating: 0xC3, count: 10)
            var journal = PatchJournal.header(for: target)
            journal += PatchJournal.recordHeader(offset: 4096, length: middle.count) + middle
            journal += PatchJournal.recordHeader(offset: Int64(expected.count), length: tail.count) + tail
            journal += PatchJournal.trailerPrefix(records: 2)
            journal += journal.withUnsafeBytes { ChunkHash(of: $0).bytes }
            try SampleTree.write(journal, to: journalPath)
            expected.replaceSubrange(4096..<4196, with: middle)
            expected += tail

            server = try ServerProcess(root: root, in: work, extra: Self.inPlace)
            server.stop()
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: stored))) == expected)
            var info = stat()
            #expect(stat(stored, &info) == 0)
            #expect(info.st_mtim.tv_sec == 1_600_000_000 && info.st_mtim.tv_nsec == 123_456_789)
            #expect(info.st_mode & 0o777 == 0o600)
            #expect(!FileManager.default.fileExists(atPath: journalPath))
            #expect(server.log.contains(/path=f.bin .*completed a patch that a crash interrupted/))

            // The crash came while the journal was being written: the file was never touched.
            try SampleTree.write(Array(journal.dropLast()), to: journalPath)
            server = try ServerProcess(root: root, in: work, extra: Self.inPlace)
            server.stop()
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: stored))) == expected)
            #expect(!FileManager.default.fileExists(atPath: journalPath))
        }

        /// The whole-content SHA-256 the catalog records for `path` of client `id`, if any.
        static func catalogedSHA256(root: String, id: String, path: String) throws -> [UInt8]? {
            let catalog = try openCatalog(root: root, id: id)
            return try catalog.read { db in
                try Data.fetchOne(db, sql: "SELECT sha256 FROM file WHERE path = ?", arguments: [path]).map(Array.init)
            }
        }

        /// Every chunk the catalog records for `path` of client `id`, in file order: offset, length, hash.
        static func catalogedChunks(root: String, id: String, path: String) throws -> [(Int64, Int, [UInt8])] {
            let catalog = try openCatalog(root: root, id: id)
            return try catalog.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT chunk.offset, chunk.length, chunk.hash FROM chunk JOIN file ON chunk.fileId = file.id
                        WHERE file.path = ? ORDER BY chunk.offset
                        """, arguments: [path]
                ).map { ($0[0], $0[1], Array($0[2] as Data)) }
            }
        }

        @Test(
            "a stored file, sent or rebuilt from stored chunks, is cataloged by chunks that are its content's, without a whole SHA-256"
        )
        func catalogedChunksAreTheContents() throws {
            let work = try TemporaryDirectory("delta-hash")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            let server = try ServerProcess(root: root, in: work)
            let file = source + "/disk.img"
            try SampleTree.writeLarge(24 << 20, to: file, seed: 9)
            func expectCataloged(_ what: String) throws {
                let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: root + "/d/disk.img")))
                // The server checked each chunk as it arrived and never hashed the whole (Protocol.md §11.5).
                #expect(try Self.catalogedSHA256(root: root, id: "d", path: "disk.img") == nil, "\(what)")
                let chunks = try Self.catalogedChunks(root: root, id: "d", path: "disk.img")
                var end: Int64 = 0
                for (offset, length, hash) in chunks {
                    #expect(offset == end, "\(what): a gap or overlap at \(offset)")
                    let content = bytes[Int(offset)..<min(bytes.count, Int(offset) + length)]
                    #expect(content.withUnsafeBytes { ChunkHash(of: $0).bytes } == hash, "\(what): chunk at \(offset)")
                    end = offset + Int64(length)
                }
                #expect(chunks.count > 1 && end == Int64(bytes.count), "\(what)")
            }
            _ = try Self.backup(source, root: root, server: server, work: work)
            try expectCataloged("the first backup")
            // A byte inserted at the start shifts every chunk: the new version is assembled from the
            // stored chunks of the old one and the few the client sends.
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            bytes.insert(0x42, at: 0)
            try SampleTree.write(bytes, to: file)
            _ = try Self.backup(source, root: root, server: server, work: work)
            try expectCataloged("a version rebuilt from stored chunks")
        }
    }
}
