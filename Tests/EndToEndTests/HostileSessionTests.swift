import FileSyncCore
import Foundation
import NIOCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite("Hostile sessions") struct HostileSessionTests {
        /// A server whose root sits inside a "world" folder, so writes outside the root can be seen.
        struct Setup {
            let work: TemporaryDirectory
            let world: String
            let root: String
            let server: ServerProcess

            init(_ label: String) throws {
                work = try TemporaryDirectory(label)
                world = try work.subfolder("world")
                root = try work.subfolder("world/root")
                try SampleTree.write(Array("precious".utf8), to: world + "/precious.txt")
                server = try ServerProcess(root: root, in: work, tls: false)
            }

            var outsideRoot: Set<String> { listing(of: world).filter { !$0.hasPrefix("root") } }

            /// A normal backup still works after whatever happened before.
            func normalBackupSucceeds() throws {
                let source = try work.subfolder("normal-\(UUID().uuidString.prefix(4))")
                try SampleTree.make(at: source, folders: 1, subfolders: 2, filesPerFolder: 4)
                let result = try runClient(
                    ["--source", source, "--id", "normal"] + server.connect, in: work)
                #expect(result.status == 0, "\(result.stderr)")
            }
        }

        @Test("an id like x/../../etc is refused by the client and by the server; nothing is written outside the root")
        func traversalInClientID() throws {
            let setup = try Setup("id")
            let before = setup.outsideRoot
            let source = try setup.work.subfolder("source")
            try SampleTree.write(Array("evil".utf8), to: source + "/passwd")

            let cli = try runClient(
                ["--source", source, "--id", "x/../../etc"] + setup.server.connect, in: setup.work)
            #expect(cli.status == 64)
            #expect(cli.stderr.contains("client id"), "\(cli.stderr)")

            for id in ["x/../../etc", "..", "../root2", "/etc", "a\u{0}b", String(repeating: "y", count: 65)] {
                let raw = try RawConnection(port: setup.server.port)
                try raw.send(.hello(.init(clientId: id, capabilities: [])))
                guard case .error(let error)? = try raw.receive() else { throw TestFailure("no ERROR for id \(id)") }
                #expect(error.code == FileSyncError.Code.invalidClientID.rawValue)
                #expect(try raw.receive() == nil, "the server must close the session")
            }
            #expect(setup.outsideRoot == before)
            // Only the server's own state (its session history, its control socket) is there.
            #expect(listing(of: setup.root).filter { $0 != ".filesync" && !$0.hasPrefix(".filesync/@server") }.isEmpty)
            try setup.normalBackupSucceeds()
        }

        @Test(
            "paths with traversal, absolute parts or NUL are refused for that session only",
            arguments: ["../escape.txt", "a/../../escape.txt", "/tmp/escape.txt", "a\u{0}b", "a//b", "./a"])
        func traversalInPath(path: String) throws {
            let setup = try Setup("path")
            let before = setup.outsideRoot
            let raw = try RawConnection(port: setup.server.port)
            try raw.authenticate(id: "mallory", server: setup.server, folder: setup.work)
            guard case .ready? = try raw.receiveSkippingQueue() else { throw TestFailure("not ready") }
            try raw.send(
                .filesInfo(
                    FilesInfo(
                        entries: [ManifestEntry(path: path, type: .file, size: 4, mtimeNs: 0, mode: 0o644)], final: true
                    )))
            guard case .error(let error)? = try raw.receive() else { throw TestFailure("no ERROR for \(path)") }
            #expect(error.code == FileSyncError.Code.invalidPath.rawValue)
            #expect(setup.outsideRoot == before)
            try setup.normalBackupSucceeds()
        }

        @Test("a symlink planted in the server tree never leads a write outside the client's folder")
        func plantedSymlink() throws {
            let setup = try Setup("symlink")
            let outside = try setup.work.subfolder("world/outside")
            try FileManager.default.createDirectory(atPath: setup.root + "/victim", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                atPath: setup.root + "/victim/docs", withDestinationPath: outside)
            let source = try setup.work.subfolder("source")
            try FileManager.default.createDirectory(atPath: source + "/docs", withIntermediateDirectories: true)
            try SampleTree.write(Array("secret".utf8), to: source + "/docs/file.txt")
            try SampleTree.write(Array("fine".utf8), to: source + "/ok.txt")

            let result = try runClient(
                ["--source", source, "--id", "victim"] + setup.server.connect + ["--json"], in: setup.work)
            // With `metadata` the planted link is a type change (Protocol.md §6.6): the link itself is
            // removed, never followed, and a real folder takes its place.
            #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
            #expect(listing(of: outside).isEmpty, "something was written through the symlink")
            #expect(FileManager.default.fileExists(atPath: setup.root + "/victim/ok.txt"))
            var info = stat()
            #expect(lstat(setup.root + "/victim/docs", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR)
            #expect(FileManager.default.fileExists(atPath: setup.root + "/victim/docs/file.txt"))
        }

        @Test("a transfer cut in the middle leaves the previous version intact and no temporary file behind")
        func interruptedTransferKeepsOldVersion() throws {
            let setup = try Setup("cut")
            let source = try setup.work.subfolder("source")
            try SampleTree.writeLarge(3 << 20, to: source + "/doc.bin", seed: 1)
            #expect(
                try runClient(["--source", source, "--id", "cut"] + setup.server.connect, in: setup.work)
                    .status == 0)
            let original = try TreeSnapshot.sha256(of: setup.root + "/cut/doc.bin")

            // A session that announces a new version, sends half of it, then vanishes.
            let raw = try RawConnection(port: setup.server.port)
            try raw.authenticate(id: "cut", server: setup.server, folder: setup.work)
            guard case .ready? = try raw.receiveSkippingQueue() else { throw TestFailure("not ready") }
            let size: Int64 = 3 << 20
            try raw.send(
                .filesInfo(
                    FilesInfo(
                        entries: [ManifestEntry(path: "doc.bin", type: .file, size: size, mtimeNs: 42, mode: 0o644)],
                        final: true)))
            guard case .tasks(let tasks)? = try raw.receive() else { throw TestFailure("no TASKS") }
            #expect(tasks.tasks.map(\.path) == ["doc.bin"])
            try raw.send(.fileHeader(FileHeader(path: "doc.bin", size: size, mtimeNs: 42, mode: 0o644)))
            try raw.sendData([UInt8](repeating: 7, count: 1 << 20))
            _ = consume raw

            // The next real session proves the server moved on; the old version was intact until then.
            let probe = try RawConnection(port: setup.server.port)
            try probe.authenticate(id: "probe", server: setup.server, folder: setup.work)
            guard case .ready? = try probe.receiveSkippingQueue() else { throw TestFailure("server did not move on") }
            #expect(try TreeSnapshot.sha256(of: setup.root + "/cut/doc.bin") == original)
            #expect(listing(of: setup.root + "/cut") == ["doc.bin"], "a temporary file was left behind")
        }

        @Test("lying sizes, a wrong checksum and out-of-order messages end that session only")
        func lyingSessions() throws {
            let setup = try Setup("lies")
            // More data than announced.
            do {
                let raw = try RawConnection(port: setup.server.port)
                try HostileCorpusTests.start(raw, setup.server, setup.work, [HostileCorpusTests.entry("f")], id: "liar")
                try raw.send(.fileHeader(FileHeader(path: "f", size: 4, mtimeNs: 1, mode: 0o644)))
                try raw.sendData(Array("too much data".utf8))
                guard case .error(let error)? = try raw.receive() else { throw TestFailure("no ERROR for oversize") }
                #expect(error.code == FileSyncError.Code.sizeMismatch.rawValue)
            }
            // A wrong checksum fails that file and the session goes on.
            do {
                let raw = try RawConnection(port: setup.server.port)
                try HostileCorpusTests.start(raw, setup.server, setup.work, [HostileCorpusTests.entry("f")], id: "liar")
                try raw.send(.fileHeader(FileHeader(path: "f", size: 4, mtimeNs: 1, mode: 0o644)))
                try raw.sendData(Array("data".utf8))
                try raw.send(.fileEnd(FileEnd(sha256: String(repeating: "0", count: 64))))
                guard case .fileAck(let ack)? = try raw.receive() else { throw TestFailure("no FILE_ACK") }
                #expect(ack.files.first?.error?.code == FileSyncError.Code.checksumMismatch.rawValue)
                try raw.send(.done(Done()))
                guard case .nextSync(let next)? = try raw.receive() else { throw TestFailure("no NEXT_SYNC") }
                #expect(next.failed == 1 && next.stored == 0)
                #expect(!FileManager.default.fileExists(atPath: setup.root + "/liar/f"))
            }
            // A message out of order, and bytes that are not a protocol at all.
            do {
                let raw = try RawConnection(port: setup.server.port)
                try raw.send(.done(Done()))
                guard case .error(let error)? = try raw.receive() else { throw TestFailure("no ERROR for DONE first") }
                #expect(error.code == FileSyncError.Code.unexpectedMessage.rawValue)
                let garbage = try RawConnection(port: setup.server.port)
                try garbage.sendRaw([0xff, 0xff, 0xff, 0xff, 0x02, 0x00] + Array("GET / HTTP/1.1\r\n\r\n".utf8))
                if case .error(let error)? = try garbage.receive() {
                    #expect(error.code == FileSyncError.Code.frameTooLarge.rawValue)
                }
                #expect(try garbage.receive() == nil, "the server must close a connection that sends garbage")
            }
            try setup.normalBackupSucceeds()
        }

        @Test("a manifest that mixes a binary part and a JSON part is refused (unexpectedMessage); nothing is stored")
        func mixedManifestForms() throws {
            let setup = try Setup("mixed")
            let raw = try RawConnection(port: setup.server.port)
            try raw.authenticate(
                id: "mixer", server: setup.server, folder: setup.work, capabilities: ["binaryManifest"])
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            #expect(ready.capabilities == ["binaryManifest"])
            var buffer = ByteBuffer()
            let first = [HostileCorpusTests.entry("a")]
            buffer.writeFrame(Frame(kind: .manifest, payload: BinaryManifest.encode(first, final: false)))
            try raw.sendRaw(Array(buffer.readableBytesView))
            try raw.send(.filesInfo(FilesInfo(entries: [HostileCorpusTests.entry("b")], final: true)))
            guard case .error(let error)? = try raw.receive() else {
                throw TestFailure("no ERROR for a mixed manifest")
            }
            #expect(error.code == FileSyncError.Code.unexpectedMessage.rawValue)
            #expect(!FileManager.default.fileExists(atPath: setup.root + "/mixer/a"))
            try setup.normalBackupSucceeds()
        }

        @Test("two spellings of one name (NFC, NFD): the second is rejected, the rest of the session goes on")
        func normalizationTwins() throws {
            let setup = try Setup("twins")
            let raw = try RawConnection(port: setup.server.port)
            try raw.authenticate(id: "twins", server: setup.server, folder: setup.work)
            _ = try raw.receiveSkippingQueue()
            let (composed, decomposed) = ("caf\u{e9}", "cafe\u{301}")
            let entries = ["plain", composed, decomposed].map { HostileCorpusTests.entry($0) }
            try raw.send(.filesInfo(FilesInfo(entries: entries, final: true)))
            guard case .tasks(let tasks)? = try raw.receiveSkippingQueue() else { throw TestFailure("no TASKS") }
            #expect(tasks.tasks.map { Array($0.path.utf8) } == ["plain", composed].map { Array($0.utf8) })
            let rejected = try #require(tasks.rejected)
            #expect(rejected.map { Array($0.path.utf8) } == [Array(decomposed.utf8)])
            #expect(rejected.first?.error?.code == FileSyncError.Code.typeConflict.rawValue)
            let sha256 = Array("data".utf8).withUnsafeBytes { ChunkHash(of: $0) }.description
            for path in ["plain", composed] {
                try raw.send(.fileHeader(FileHeader(path: path, size: 4, mtimeNs: 1, mode: 0o644)))
                try raw.sendData(Array("data".utf8))
                try raw.send(.fileEnd(FileEnd(sha256: sha256)))
            }
            try raw.send(.done(Done()))
            var next: NextSync?
            while let message = try raw.receive(), next == nil {
                if case .nextSync(let sync) = message { next = sync }
            }
            let sync = try #require(next, "no NEXT_SYNC")
            #expect(sync.stored == 2 && sync.failed == 1)
            #expect(FileManager.default.fileExists(atPath: setup.root + "/twins/plain"))
        }

        @Test("with binaryTasks, tasks and ack frames name files by manifest position, rejected ones too")
        func binaryTasks() throws {
            let setup = try Setup("tasks")
            // The server holds a folder where the client has the file "c": that entry is rejected.
            try FileManager.default.createDirectory(atPath: setup.root + "/bt/c", withIntermediateDirectories: true)
            let entries = [
                ManifestEntry(path: "d", type: .dir, size: 0, mtimeNs: 0, mode: 0o755),
                HostileCorpusTests.entry("d/a"), HostileCorpusTests.entry("d/b"), HostileCorpusTests.entry("c"),
                HostileCorpusTests.entry("e"),
            ]
            let raw = try RawConnection(port: setup.server.port)
            try raw.authenticate(
                id: "bt", server: setup.server, folder: setup.work, capabilities: [Capability.binaryTasks])
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            #expect(ready.capabilities == [Capability.binaryTasks])
            try raw.send(.filesInfo(FilesInfo(entries: entries, final: true)))
            guard let frame = try raw.receiveFrame() else { throw TestFailure("no tasks frame") }
            #expect(frame.kind == .tasks)
            let part = try BinaryTasks.decode(frame.payload)
            #expect(part.final)
            #expect(part.runs == [.init(first: 1, count: 2, kind: .full), .init(first: 4, kind: .full)])
            #expect(part.rejected.map(\.entry) == [3])
            // Acknowledgements come as ack frames, by entry number, then NEXT_SYNC.
            let acks = try raw.sendFilesThenDone(["d/a", "d/b", "e"])
            #expect(acks.allSatisfy { $0.failed.isEmpty })
            #expect(acks.flatMap { $0.stored.flatMap { Array($0) } }.sorted() == [1, 2, 4])
            #expect(try String(contentsOfFile: setup.root + "/bt/d/b", encoding: .utf8) == "data")
        }

        @Test(
            "with tasksPerPart, each manifest part is answered before the next is sent; without, after the last; entries numbered across parts",
            arguments: [true, false])
        func tasksPerManifestPart(perPart: Bool) throws {
            let setup = try Setup("parts")
            try FileManager.default.createDirectory(atPath: setup.root + "/bp/c", withIntermediateDirectories: true)
            let raw = try RawConnection(port: setup.server.port)
            let capabilities = [Capability.binaryTasks] + (perPart ? [Capability.tasksPerPart] : [])
            try raw.authenticate(id: "bp", server: setup.server, folder: setup.work, capabilities: capabilities)
            guard case .ready(let ready)? = try raw.receiveSkippingQueue() else { throw TestFailure("no READY") }
            #expect(ready.capabilities == capabilities)
            // First part: a folder, a file in it and a file where the server holds a folder.
            let first = [
                ManifestEntry(path: "d", type: .dir, size: 0, mtimeNs: 0, mode: 0o755),
                HostileCorpusTests.entry("d/a"), HostileCorpusTests.entry("c"),
            ]
            try raw.send(.filesInfo(FilesInfo(entries: first, final: false)))
            let last = [HostileCorpusTests.entry("e")]
            // With tasksPerPart, the first part's tasks come before the rest of the manifest is sent (a
            // server that waits for the last part never answers, and the read times out).
            if !perPart { try raw.send(.filesInfo(FilesInfo(entries: last, final: true))) }
            guard let frame = try raw.receiveFrame(), frame.kind == .tasks else { throw TestFailure("no tasks frame") }
            let part = try BinaryTasks.decode(frame.payload)
            #expect(!part.final)
            #expect(part.runs == [.init(first: 1, kind: .full)])
            #expect(part.rejected.map(\.entry) == [2])
            // The last part: its entries are numbered after the first part's.
            if perPart { try raw.send(.filesInfo(FilesInfo(entries: last, final: true))) }
            guard let lastFrame = try raw.receiveFrame(), lastFrame.kind == .tasks else {
                throw TestFailure("no last tasks frame")
            }
            let lastPart = try BinaryTasks.decode(lastFrame.payload)
            #expect(lastPart.final)
            #expect(lastPart.runs == [.init(first: 3, kind: .full)])
            let acks = try raw.sendFilesThenDone(["d/a", "e"])
            #expect(acks.flatMap { $0.stored.flatMap { Array($0) } }.sorted() == [1, 3])
            #expect(try String(contentsOfFile: setup.root + "/bp/e", encoding: .utf8) == "data")
        }

        @Test(
            "file frames: a wrong checksum fails that file; short content, a repeat or no capability ends the session")
        func lyingFileFrames() throws {
            let setup = try Setup("frames")
            let entries = [HostileCorpusTests.entry("a"), HostileCorpusTests.entry("b")]
            let frames = [Capability.fileFrames]
            // A good frame is stored; a wrong checksum fails only its file.
            do {
                let raw = try RawConnection(port: setup.server.port)
                try HostileCorpusTests.start(raw, setup.server, setup.work, entries, id: "f1", capabilities: frames)
                try raw.sendWholeFile("a", Array("good".utf8))
                try raw.sendWholeFile(
                    "b", Array("evil".utf8), sha256: ChunkHash(of: UnsafeRawBufferPointer(start: nil, count: 0)))
                guard case .fileAck(let ack)? = try raw.receive() else { throw TestFailure("no FILE_ACK") }
                #expect(ack.files == [FileResult(path: "b", error: ack.files.first?.error)])
                #expect(ack.files.first?.error?.code == FileSyncError.Code.checksumMismatch.rawValue)
                try raw.send(.done(Done()))
                guard case .fileAck(let stored)? = try raw.receive() else { throw TestFailure("no FILE_ACK") }
                #expect(stored.files == [FileResult(path: "a")])
                guard case .nextSync(let next)? = try raw.receive() else { throw TestFailure("no NEXT_SYNC") }
                #expect(next.stored == 1 && next.failed == 1)
                #expect(try String(contentsOfFile: setup.root + "/f1/a", encoding: .utf8) == "good")
                #expect(!FileManager.default.fileExists(atPath: setup.root + "/f1/b"))
            }
            // Content shorter than its size, the same path twice, and a file frame without the capability.
            let endings: [(String, [String], (RawConnection) throws -> Void, FileSyncError.Code)] = [
                ("short", frames, { try $0.sendWholeFile("a", Array("abc".utf8), size: 4) }, .sizeMismatch),
                (
                    "twice", frames,
                    { raw in
                        try raw.sendWholeFile("a", Array("good".utf8))
                        try raw.sendWholeFile("a", Array("good".utf8))
                    }, .unexpectedMessage
                ),
                ("unnegotiated", [], { try $0.sendWholeFile("a", Array("good".utf8)) }, .unexpectedMessage),
            ]
            for (id, capabilities, send, code) in endings {
                let raw = try RawConnection(port: setup.server.port)
                try HostileCorpusTests.start(raw, setup.server, setup.work, entries, id: id, capabilities: capabilities)
                try send(raw)
                var answer = try raw.receive()
                while case .fileAck? = answer { answer = try raw.receive() }
                guard case .error(let error)? = answer else { throw TestFailure("no ERROR for \(id)") }
                #expect(error.code == code.rawValue, "\(id)")
            }
            try setup.normalBackupSucceeds()
        }
    }
}
