import FileSyncCore
import Foundation
import TestSupport
import Testing

extension EndToEnd {
    @Suite("Resume and the client's chunker") struct ResumeChunkerTests {
        @Test(
            "a file completed by resuming is cut by the server only for a client with chunkerV1",
            arguments: [(["resume", "chunks", "chunkerV1"], true), (["resume", "chunks"], false)])
        func readBackNeedsChunkerV1(capabilities: [String], cataloged: Bool) throws {
            let work = try TemporaryDirectory("resume-chunker")
            let root = try work.subfolder("root")
            let empty = try work.subfolder("empty")
            let server = try ServerProcess(root: root, in: work, tls: false)
            defer { server.stop() }
            var generator = SeededGenerator(seed: 21)
            let content = TestData.bytes(4 << 20, from: &generator)
            try ResumeTests.leavePartial(
                server, work, id: "r", path: "disk.img", content: content, mtimeNs: 7, sent: 2 << 20)
            try resume(server: server, work: work, content: content, capabilities: capabilities)
            // The queue's next session gets READY only once the resumed files are cataloged.
            let other = try runClient(["--source", empty, "--id", "other"] + server.connect, in: work)
            #expect(other.status == 0, "\(other.stderr)")
            let paths = try DeltaTests.catalogedPaths(root: root, id: "r")
            #expect(paths == (cataloged ? ["disk.img"] : []))
        }

        /// A session that resumes `disk.img` from the server's offer and completes it.
        private func resume(
            server: ServerProcess, work: TemporaryDirectory, content: [UInt8], capabilities: [String]
        ) throws {
            let raw = try RawConnection(port: server.port)
            try raw.authenticate(id: "r", server: server, folder: work, capabilities: capabilities)
            guard case .ready? = try raw.receiveSkippingQueue() else { throw TestFailure("not ready") }
            let size = Int64(content.count)
            let entry = ManifestEntry(path: "disk.img", type: .file, size: size, mtimeNs: 7, mode: 0o644)
            try raw.send(.filesInfo(FilesInfo(entries: [entry], final: true)))
            guard case .tasks(let tasks)? = try raw.receive(), let task = tasks.tasks.first,
                task.kind == .resume, let offset = task.offset
            else { throw TestFailure("no resume task") }
            try raw.send(.fileHeader(FileHeader(path: "disk.img", size: size, mtimeNs: 7, mode: 0o644, offset: offset)))
            for start in stride(from: Int(offset), to: content.count, by: ProtocolLimits.maxDataPayload) {
                try raw.sendData(Array(content[start..<min(content.count, start + ProtocolLimits.maxDataPayload)]))
            }
            let sha256 = content.withUnsafeBytes { ChunkHash(of: $0) }.description
            try raw.send(.fileEnd(FileEnd(sha256: sha256)))
            try raw.send(.done(Done()))
            var next: NextSync?
            while let message = try raw.receive(), next == nil {
                if case .nextSync(let sync) = message { next = sync }
            }
            #expect(next?.stored == 1)
        }
    }
}
