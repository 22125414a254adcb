import FileSyncCore
import Foundation
import NIOCore
import TestSupport
import Testing

extension EndToEnd {
    @Suite("Hostile corpus") struct HostileCorpusTests {
        typealias Session = @Sendable (RawConnection, ServerProcess, TemporaryDirectory) throws -> Void

        static func entry(_ path: String, size: Int64 = 4) -> ManifestEntry {
            ManifestEntry(path: path, type: .file, size: size, mtimeNs: 1, mode: 0o644)
        }

        /// Authenticates as `id`, sends a manifest of `entries` and reads the TASKS.
        static func start(
            _ raw: RawConnection, _ server: ServerProcess, _ work: TemporaryDirectory, _ entries: [ManifestEntry],
            id: String = "hostile", capabilities: [String] = []
        ) throws {
            try raw.authenticate(id: id, server: server, folder: work, capabilities: capabilities)
            _ = try raw.receiveSkippingQueue()
            try raw.send(.filesInfo(FilesInfo(entries: entries, final: true)))
            _ = try raw.receiveSkippingQueue()
        }

        static let sessions: [(String, Session)] = [
            (
                "random bytes",
                { raw, _, _ in
                    var generator = SeededGenerator(seed: 99)
                    try? raw.sendRaw(TestData.bytes(65536, from: &generator))
                }
            ),
            ("a 4 GB length prefix", { raw, _, _ in try raw.sendRaw([0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 1, 2, 3]) }),
            ("an HTTP request", { raw, _, _ in try raw.sendRaw(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)) }),
            (
                "an unknown message type",
                { raw, _, _ in
                    var buffer = ByteBuffer()
                    buffer.writeFrame(
                        Frame(kind: .control, payload: ByteBuffer(string: #"{"type":"RM_RF","path":"/"}"#)))
                    try raw.sendRaw(Array(buffer.readableBytesView))
                }
            ),
            (
                "FILE_HEADER before HELLO",
                { raw, _, _ in
                    try raw.send(.fileHeader(FileHeader(path: "../../x", size: 1, mtimeNs: 0, mode: 0o644)))
                }
            ),
            ("a half-open connection that never speaks", { _, _, _ in }),
            (
                "traversal and absolute paths in the manifest",
                { raw, server, work in
                    try start(raw, server, work, [entry("../../outside.txt"), entry("/etc/cron.d/x")])
                }
            ),
            (
                "a NUL and an overlong path",
                { raw, server, work in
                    try start(raw, server, work, [entry("a\u{0}b"), entry(String(repeating: "d/", count: 3000) + "f")])
                }
            ),
            (
                "a manifest part over the entry limit",
                { raw, server, work in
                    try start(raw, server, work, (0..<10_001).map { entry("f\($0)") })
                }
            ),
            ("the same path twice", { raw, server, work in try start(raw, server, work, [entry("a"), entry("a")]) }),
            (
                "a file that was not requested",
                { raw, server, work in
                    try start(raw, server, work, [entry("asked")])
                    try raw.send(.fileHeader(FileHeader(path: "../not-asked", size: 4, mtimeNs: 1, mode: 0o644)))
                }
            ),
            (
                "more data than announced",
                { raw, server, work in
                    try start(raw, server, work, [entry("f")])
                    try raw.send(.fileHeader(FileHeader(path: "f", size: 4, mtimeNs: 1, mode: 0o644)))
                    try raw.sendData(Array("far more than four bytes".utf8))
                }
            ),
            (
                "less data than announced, then FILE_END",
                { raw, server, work in
                    try start(raw, server, work, [entry("f")])
                    try raw.send(.fileHeader(FileHeader(path: "f", size: 4, mtimeNs: 1, mode: 0o644)))
                    try raw.sendData([1])
                    try raw.send(.fileEnd(FileEnd(sha256: String(repeating: "0", count: 64))))
                }
            ),
            (
                "a wrong SHA-256",
                { raw, server, work in
                    try start(raw, server, work, [entry("f")])
                    try raw.send(.fileHeader(FileHeader(path: "f", size: 4, mtimeNs: 1, mode: 0o644)))
                    try raw.sendData([1, 2, 3, 4])
                    try raw.send(.fileEnd(FileEnd(sha256: String(repeating: "f", count: 64))))
                    try raw.send(.done(Done()))
                }
            ),
            (
                "a deflated frame without deflate negotiated",
                { raw, server, work in
                    try start(raw, server, work, [entry("f")])
                    try raw.send(.fileHeader(FileHeader(path: "f", size: 4, mtimeNs: 1, mode: 0o644)))
                    var buffer = ByteBuffer()
                    buffer.writeFrame(
                        Frame(kind: .data, flags: .deflated, payload: ByteBuffer(bytes: [0x78, 0x9c, 3, 0])))
                    try raw.sendRaw(Array(buffer.readableBytesView))
                }
            ),
            (
                "a data frame outside any file",
                { raw, server, work in
                    try start(raw, server, work, [entry("f")])
                    try raw.sendData([1, 2, 3])
                }
            ),
            (
                "an impossible size and mode",
                { raw, server, work in
                    try start(raw, server, work, [entry("f")])
                    try raw.send(.fileHeader(FileHeader(path: "f", size: -5, mtimeNs: 1, mode: 0o177777)))
                }
            ),
            (
                "a resume offset that was never offered",
                { raw, server, work in
                    try start(raw, server, work, [entry("f", size: 100)])
                    try raw.send(.fileHeader(FileHeader(path: "f", size: 100, mtimeNs: 1, mode: 0o644, offset: 50)))
                }
            ),
            (
                "a delta transfer that was never offered",
                { raw, server, work in
                    try start(raw, server, work, [entry("f", size: 100)])
                    try raw.send(
                        .fileHeader(FileHeader(path: "f", size: 100, mtimeNs: 1, mode: 0o644, transfer: .delta)))
                }
            ),
            (
                "a chunk frame and a chunk list outside any chunked transfer",
                { raw, server, work in
                    try start(raw, server, work, [entry("f")])
                    var buffer = ByteBuffer()
                    buffer.writeFrame(Frame(kind: .chunk, payload: ByteBuffer(repeating: 1, count: 40)))
                    buffer.writeFrame(Frame(kind: .chunkList, payload: ByteBuffer(repeating: 1, count: 36)))
                    try raw.sendRaw(Array(buffer.readableBytesView))
                }
            ),
            (
                "a binary manifest without binaryManifest negotiated",
                { raw, server, work in
                    try raw.authenticate(id: "hostile", server: server, folder: work)
                    _ = try raw.receiveSkippingQueue()
                    var buffer = ByteBuffer()
                    buffer.writeFrame(
                        Frame(kind: .manifest, payload: BinaryManifest.encode([entry("../../etc/x")], final: true)))
                    try raw.sendRaw(Array(buffer.readableBytesView))
                }
            ),
            (
                "a manifest that mixes a binary part and a JSON part",
                { raw, server, work in
                    try raw.authenticate(id: "hostile", server: server, folder: work, capabilities: ["binaryManifest"])
                    _ = try raw.receiveSkippingQueue()
                    var buffer = ByteBuffer()
                    buffer.writeFrame(
                        Frame(kind: .manifest, payload: BinaryManifest.encode([entry("a")], final: false)))
                    try raw.sendRaw(Array(buffer.readableBytesView))
                    try raw.send(.filesInfo(FilesInfo(entries: [entry("b")], final: true)))
                }
            ),
            (
                "a zstd frame without zstd negotiated",
                { raw, server, work in
                    try start(raw, server, work, [entry("f")])
                    try raw.send(.fileHeader(FileHeader(path: "f", size: 4, mtimeNs: 1, mode: 0o644)))
                    var buffer = ByteBuffer()
                    buffer.writeFrame(
                        Frame(kind: .data, flags: .zstd, payload: ByteBuffer(bytes: [0x28, 0xb5, 0x2f, 0xfd, 0, 0])))
                    try raw.sendRaw(Array(buffer.readableBytesView))
                }
            ),
        ]

        @Test("each hostile session ends alone: the next client backs up, and nothing is written outside the root")
        func replayHostileSessions() throws {
            let work = try TemporaryDirectory("corpus")
            let world = try work.subfolder("world")
            let root = try work.subfolder("world/root")
            try SampleTree.write(Array("precious".utf8), to: world + "/precious.txt")
            let outside = { listing(of: world).filter { !$0.hasPrefix("root") } }
            let before = outside()
            let server = try ServerProcess(
                root: root, in: work, tls: false, extra: ["--handshake-timeout", "1s", "--idle-timeout", "2s"])
            let source = try work.subfolder("source")
            try SampleTree.make(at: source, folders: 1, subfolders: 2, filesPerFolder: 3)

            for (index, (name, session)) in Self.sessions.enumerated() {
                let raw = try RawConnection(port: server.port)
                try session(raw, server, work)
                // The server ends the session by itself: with an ERROR, or by closing after a timeout.
                while let message = try raw.receive() {
                    if case .error = message { continue }
                }
                let result = try runClient(
                    ["--source", source, "--id", "normal"] + server.connect, in: work)
                #expect(result.status == 0, "after \"\(name)\": \(result.stderr)")
                #expect(outside() == before, "after \"\(name)\": something was written outside the root")
                #expect(try TreeSnapshot(of: root + "/normal") == TreeSnapshot(of: source), "after \"\(name)\"")
                print("hostile session \(index + 1)/\(Self.sessions.count) refused: \(name)")
            }
            #expect(!FileManager.default.fileExists(atPath: root + "/hostile/f"), "hostile data was stored")
        }
    }
}
