import FileSyncCore
import Foundation
import NIOCore
import Testing

extension EndToEnd {
    @Suite("Storage contention") struct StorageContentionTests {
        /// Sessions alternate: a raw one that starts a delta transfer of a large file and drops the
        /// connection mid-file, then a real backup of the same client at once. The aborted session's
        /// storage work (catalog, partials, history) must never reach the next client as a refusal.
        @Test("100 aborted delta sessions, each followed at once by a backup: 200 sessions, zero refusals")
        func abortedDeltasThenBackups() throws {
            let work = try TemporaryDirectory("contention")
            let root = try work.subfolder("root")
            let source = try work.subfolder("source")
            try SampleTree.writeLarge(2 << 20, to: source + "/big.bin", seed: 7)
            try SampleTree.write(Array("small".utf8), to: source + "/small.txt")
            let server = try ServerProcess(root: root, in: work, tls: false)
            defer { server.stop() }
            let first = try runClient(["--source", source, "--id", "busy"] + server.connect, in: work)
            try #require(first.status == 0, "\(first.stderr)")
            var refusals: [String] = []
            for round in 0..<100 {
                try abortDelta(server: server, work: work, round: round)
                // The source changes a little each round, so every backup sends a delta as well.
                let handle = try #require(FileHandle(forWritingAtPath: source + "/big.bin"))
                try handle.seek(toOffset: UInt64(round * 4096))
                try handle.write(contentsOf: Data([UInt8(round & 0xff)]))
                try handle.close()
                let result = try runClient(
                    ["--source", source, "--id", "busy", "--retries", "0"] + server.connect, in: work)
                if result.status != 0 { refusals.append("round \(round): \(result.stderr)") }
            }
            #expect(refusals.isEmpty, "\(refusals.prefix(3))")
            #expect(!server.log.contains("database is locked"), "the server met SQLite contention")
        }

        /// A session that asks for a delta of `big.bin` and is cut after its first chunk list.
        private func abortDelta(server: ServerProcess, work: TemporaryDirectory, round: Int) throws {
            let raw = try RawConnection(port: server.port)
            try raw.authenticate(id: "busy", server: server, folder: work, capabilities: ["chunks"])
            _ = try raw.receiveSkippingQueue()
            let size: Int64 = 2 << 20
            let entry = ManifestEntry(
                path: "big.bin", type: .file, size: size, mtimeNs: Int64(round) + 1, mode: 0o644)
            try raw.send(.filesInfo(FilesInfo(entries: [entry], final: true)))
            guard case .tasks(let tasks)? = try raw.receiveSkippingQueue(), let task = tasks.tasks.first else {
                throw TestFailure("no task for big.bin")
            }
            try raw.send(
                .fileHeader(
                    FileHeader(path: "big.bin", size: size, mtimeNs: entry.mtimeNs, mode: 0o644, transfer: task.kind)))
            var list = ByteBuffer()
            list.writeInteger(UInt32(1 << 20))
            list.writeBytes([UInt8](repeating: UInt8(round & 0xff), count: 32))
            var frames = ByteBuffer()
            frames.writeFrame(Frame(kind: .chunkList, payload: list))
            try raw.sendRaw(Array(frames.readableBytesView))
            // Returning drops the connection (the descriptor closes with `raw`), mid-file.
        }
    }
}
