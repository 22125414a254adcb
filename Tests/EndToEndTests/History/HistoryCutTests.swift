import Crypto
import FileSyncCore
import Foundation
import GRDB
import TestSupport
import Testing

extension EndToEnd {
    @Suite("Snapshots of files cut by the client") struct HistoryCutTests {
        @Test("a large file from a chunkerV1 client is cataloged as cut like the history, and its snapshot restores")
        func clientCutIsTheHistorysCut() throws {
            let work = try TemporaryDirectory("history-cut")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            var generator = SeededGenerator(seed: 31)
            // Over the direct writer's 8 MiB: the session writes it straight to the disk.
            try SampleTree.write(TestData.bytes(12 << 20, from: &generator), to: source + "/big.bin")
            let server = try ServerProcess(root: root, in: work)
            defer { server.stop() }
            let client = HistoryClient(server: server, work: work)
            try client.backup(source, id: "cut")
            #expect(try Self.historyCut(root: root, id: "cut", path: "big.bin") == true)

            // The snapshot took the client's chunks: every byte of it checks, and it restores exactly.
            let check = try Command.run(Harness.server, ["check", "--root", root, "--read-data"], in: work)
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            let target = try work.subfolder("restored")
            let result = try client.restore(id: "cut", to: target)
            #expect(result.status == 0, "\(result.stderr)")
            let restored = try TreeSnapshot(of: target)
            let original = try TreeSnapshot(of: source)
            #expect(restored == original, "differences: \(restored.differences(from: original))")
        }

        @Test(
            "a chunked file is never hashed whole by the server: listed by its chunk-list digest with chunkDigest, by its SHA-256 without"
        )
        func chunkDigestNegotiated() throws {
            let work = try TemporaryDirectory("chunk-digest")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            var generator = SeededGenerator(seed: 37)
            let content = TestData.bytes(3 << 20, from: &generator)
            try SampleTree.write(content, to: source + "/big.bin")
            let server = try ServerProcess(root: root, in: work, tls: false)
            defer { server.stop() }
            try HistoryClient(server: server, work: work).backup(source, id: "digest")
            let cataloged = try Self.cataloged(root: root, id: "digest", path: "big.bin")
            #expect(cataloged?.historyCut == true && cataloged?.sha256 == false)

            let whole = SHA256.hash(data: content).hexString
            let (current, _) = try Self.restoreList(server: server, work: work, ["history", "chunkDigest"])
            var digest = ChunkListDigest()
            for chunk in current.chunks ?? [] {
                let hash = [UInt8](hex: chunk.sha256)!.withUnsafeBytes { ChunkHash(bytes: $0)! }
                digest.add(ChunkEntry(length: chunk.length, hash: hash))
            }
            #expect(current.digest == "chunks" && current.sha256 == digest.finalize() && current.sha256 != whole)

            // A client that predates chunkDigest gets the whole SHA-256, and content that matches it.
            let (old, raw) = try Self.restoreList(server: server, work: work, ["history"])
            #expect(old.digest == nil && old.sha256 == whole)
            try raw.send(.restoreWant(RestoreWant(files: [RestoreWant.File(entry: 0)], final: true)))
            var received: [UInt8] = []
            var end: FileEnd?
            while end == nil, let frame = try raw.receiveFrame() {
                if frame.kind == .data { received += Array(frame.payload.readableBytesView) }
                if frame.kind == .control, case .fileEnd(let fileEnd) = try Message(frame: frame) { end = fileEnd }
            }
            #expect(end?.sha256 == whole && received == content)
        }

        @Test("a file patched in place is named by its chunks too: not read back, checked by check, restored exactly")
        func patchedInPlace() throws {
            let work = try TemporaryDirectory("patched-digest")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            var generator = SeededGenerator(seed: 41)
            var bytes = TestData.bytes(8 << 20, from: &generator)
            try SampleTree.write(bytes, to: source + "/disk.img")
            let server = try ServerProcess(root: root, in: work)
            defer { server.stop() }
            let client = HistoryClient(server: server, work: work)
            try client.backup(source, id: "vm")
            let original = try TreeSnapshot(of: source)
            bytes[3 << 20] ^= 0xFF
            try SampleTree.write(bytes, to: source + "/disk.img")
            try client.backup(source, id: "vm")
            #expect(server.log.contains(/path=disk.img .*patched in place/))
            let cataloged = try Self.cataloged(root: root, id: "vm", path: "disk.img")
            #expect(cataloged?.historyCut == true && cataloged?.sha256 == false)

            let check = try Command.run(Harness.server, ["check", "--root", root, "--read-data"], in: work)
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            let latest = try work.subfolder("latest")
            #expect(try client.restore(id: "vm", to: latest).status == 0)
            #expect(try TreeSnapshot(of: latest) == TreeSnapshot(of: source))
            let first = try #require(try client.snapshots(id: "vm").first?["id"] as? String)
            let earlier = try work.subfolder("earlier")
            #expect(try client.restore(id: "vm", to: earlier, ["--snapshot", first]).status == 0)
            #expect(try TreeSnapshot(of: earlier) == original)
        }

        /// A restore session announcing `capabilities`, its `RESTORE` of everything, and the listed
        /// `big.bin` (the list's only entry).
        static func restoreList(
            server: ServerProcess, work: TemporaryDirectory, _ capabilities: [String]
        ) throws -> (RestoreEntry, RawConnection) {
            let raw = try RawConnection(port: server.port)
            try raw.authenticate(
                id: "digest", server: server, folder: work, capabilities: capabilities, session: .restore)
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            #expect(ready.capabilities == capabilities)
            try raw.send(.restore(Restore(paths: [])))
            guard case .restoreList(let list)? = try raw.receive(), list.final, list.entries.count == 1 else {
                throw TestFailure("not a one-entry RESTORE_LIST")
            }
            return (list.entries[0], raw)
        }

        /// The catalog's `historyCut` flag of `path` for client `id`, and whether it holds a whole
        /// SHA-256; `nil` if not cataloged.
        static func cataloged(root: String, id: String, path: String) throws -> (historyCut: Bool, sha256: Bool)? {
            let catalog = try openCatalog(root: root, id: id)
            return try catalog.read { db in
                try Row.fetchOne(
                    db, sql: "SELECT historyCut, sha256 IS NOT NULL AS whole FROM file WHERE path = ?",
                    arguments: [path]
                ).map { ($0["historyCut"], $0["whole"]) }
            }
        }

        /// The catalog's `historyCut` flag of `path` for client `id`, or `nil` if not cataloged.
        static func historyCut(root: String, id: String, path: String) throws -> Bool? {
            let catalog = try openCatalog(root: root, id: id)
            return try catalog.read {
                try Bool.fetchOne($0, sql: "SELECT historyCut FROM file WHERE path = ?", arguments: [path])
            }
        }
    }
}
