import FileSyncCore
import Foundation
import TestSupport
import Testing

extension EndToEnd {
    /// Snapshot objects damaged on disk (bit rot, a lost file): the next backup still records its
    /// snapshot, and rewrites what it makes again where the content is unchanged.
    @Suite("Damaged snapshot objects") struct HistoryRepairTests {
        /// The chunk-list pieces (objects that start `FSLIST01`) below `trees`, by path.
        static func chunkListPieces(in trees: String) throws -> [String] {
            var pieces: [String] = []
            for folder in try FileManager.default.contentsOfDirectory(atPath: trees) {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: trees + "/" + folder)) ?? []
                for name in names {
                    let path = trees + "/" + folder + "/" + name
                    let head = FileHandle(forReadingAtPath: path).flatMap { try? $0.read(upToCount: 8) }
                    if head == Data("FSLIST01".utf8) { pieces.append(path) }
                }
            }
            return pieces.sorted()
        }

        @Test(
            "a missing and a damaged chunk-list piece: the next snapshot is recorded and repairs both",
            arguments: [false, true])
        func damagedPiecesAreRepaired(folderChanged: Bool) throws {
            let work = try TemporaryDirectory("history-repair")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            // A list of more than 128 chunks is kept in pieces (ChunkListObject).
            try SampleTree.writeLarge(32 << 20, to: source + "/big.bin", seed: 41)
            try SampleTree.write(Array("small".utf8), to: source + "/small.txt")
            let server = try ServerProcess(root: root, in: work)
            defer { server.stop() }
            let client = HistoryClient(server: server, work: work)
            try client.backup(source, id: "rep")
            let check = { try Command.run(Harness.server, ["check", "--root", root, "--read-data"], in: work) }
            #expect(try check().status == 0)

            let pieces = try Self.chunkListPieces(in: root + "/.filesync/rep/history/trees")
            try #require(pieces.count >= 2, "pieces: \(pieces)")
            try FileManager.default.removeItem(atPath: pieces[0])
            try flipByte(at: 20, of: pieces[1])
            let damaged = try check()
            #expect(damaged.status == 1, "\(damaged.stdout)")

            // Backed up again: a snapshot is recorded, and the objects it shares with the first one
            // are written anew, whether the folder's tree is the same or (a new file beside the large
            // one) another that names the same pieces.
            if folderChanged { try SampleTree.write(Array("new".utf8), to: source + "/new.txt") }
            try client.backup(source, id: "rep")
            #expect(try client.snapshots(id: "rep").count == 2)
            let log = try String(contentsOf: server.logURL, encoding: .utf8)
            #expect(log.contains("the previous snapshot has unreadable trees"), "\(log)")
            // The bit-flipped piece is written again over the damaged file; the missing one as new.
            #expect(log.contains("objectsRepaired=1"), "\(log)")
            // Both files lay under the unreadable root tree: the guard could not compare them, and
            // keeps the snapshot before this run.
            #expect(log.contains("could not compare 2 (unreadable trees)"), "\(log)")
            #expect(try client.snapshots(id: "rep").first?["protected"] as? String != nil)
            let repaired = try check()
            #expect(repaired.status == 0, "\(repaired.stdout)\(repaired.stderr)")

            let first = try #require(try client.snapshots(id: "rep").first?["id"] as? String)
            let target = try work.subfolder("restored")
            let restored = try client.restore(id: "rep", to: target, ["--snapshot", first])
            #expect(restored.status == 0, "\(restored.stderr)")
            if folderChanged { try FileManager.default.removeItem(atPath: source + "/new.txt") }
            let (copy, original) = (try TreeSnapshot(of: target), try TreeSnapshot(of: source))
            #expect(copy == original, "differences: \(copy.differences(from: original))")
        }

        /// A backup of a folder `docs` holding a large file (its chunk list in pieces) and of two
        /// files beside it, then one of the pieces removed: the snapshot's listing of `docs` cannot
        /// be read.
        static func damagedSnapshot(
            _ work: TemporaryDirectory, tls: Bool = true
        ) throws -> (ServerProcess, String, String) {
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try FileManager.default.createDirectory(atPath: source + "/docs", withIntermediateDirectories: true)
            try SampleTree.writeLarge(32 << 20, to: source + "/docs/big.bin", seed: 43)
            try SampleTree.write(Array("one".utf8), to: source + "/one.txt")
            try SampleTree.write(Array("two".utf8), to: source + "/two.txt")
            let server = try ServerProcess(root: root, in: work, tls: tls)
            try HistoryClient(server: server, work: work).backup(source, id: "dmg")
            let pieces = try chunkListPieces(in: root + "/.filesync/dmg/history/trees")
            try FileManager.default.removeItem(atPath: try #require(pieces.first))
            return (server, source, root)
        }

        @Test("a restore of a snapshot with an unreadable folder restores the rest and reports the folder (exit 23)")
        func restoreAroundUnreadableFolder() throws {
            let work = try TemporaryDirectory("restore-unreadable")
            let (server, source, _) = try Self.damagedSnapshot(work)
            defer { server.stop() }
            let target = try work.subfolder("restored")
            let result = try HistoryClient(server: server, work: work).restore(id: "dmg", to: target)
            #expect(result.status == 23, "\(result.stdout)\(result.stderr)")
            let failed = try result.json()["failed"] as? [[String: Any]] ?? []
            #expect(failed.map { $0["path"] as? String } == ["docs"], "\(result.stdout)")
            #expect((failed.first?["error"] as? [String: Any])?["code"] as? String == "unreadable")
            for name in ["one.txt", "two.txt"] {
                #expect(
                    FileManager.default.contents(atPath: target + "/" + name)
                        == FileManager.default.contents(atPath: source + "/" + name))
            }
            var isFolder: ObjCBool = false
            #expect(
                FileManager.default.fileExists(atPath: target + "/docs", isDirectory: &isFolder) && isFolder.boolValue)
            #expect(!FileManager.default.fileExists(atPath: target + "/docs/big.bin"))
        }

        @Test("an unreadable top folder fails a restore, of the whole snapshot or of a path, with storageFailed")
        func unreadableTopFolder() throws {
            let work = try TemporaryDirectory("restore-unreadable-top")
            let (server, _, root) = try Self.damagedSnapshot(work)
            defer { server.stop() }
            let trees = root + "/.filesync/dmg/history/trees"
            for folder in try FileManager.default.contentsOfDirectory(atPath: trees) {
                try FileManager.default.removeItem(atPath: trees + "/" + folder)
            }
            let history = HistoryClient(server: server, work: work)
            for paths in [[], ["one.txt"]] {
                let target = try work.subfolder("restored-\(paths.count)")
                let result = try history.restore(id: "dmg", to: target, paths)
                #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
                #expect(
                    result.stderr.contains("storageFailed") || result.stderr.contains("missing"), "\(result.stderr)")
                #expect(
                    try FileManager.default.contentsOfDirectory(atPath: target).filter { !$0.hasPrefix(".") }.isEmpty)
            }
        }

        @Test("a restore session without unreadableFolders: an unreadable folder fails the restore, nothing is listed")
        func oldClientGetsAnError() throws {
            let work = try TemporaryDirectory("restore-unreadable-old")
            let (server, _, _) = try Self.damagedSnapshot(work, tls: false)
            defer { server.stop() }
            let raw = try RawConnection(port: server.port)
            let capabilities = ["history", "chunkDigest"]
            try raw.authenticate(id: "dmg", server: server, folder: work, capabilities: capabilities, session: .restore)
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            #expect(ready.capabilities == capabilities)
            try raw.send(.restore(Restore(paths: [])))
            guard case .error(let error)? = try raw.receive() else { throw TestFailure("no ERROR") }
            #expect(error.code == "storageFailed", "\(error)")
        }
    }
}
