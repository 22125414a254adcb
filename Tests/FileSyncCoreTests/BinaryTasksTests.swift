import FileSyncCore
import NIOCore
import Testing

@Suite("Binary tasks frames")
struct BinaryTasksTests {
    static let prefix = String(repeating: "ab", count: 32)

    @Test("consecutive entries with one kind form a run; resume runs stay single; parts round-trip")
    func runs() throws {
        let tasks: [(entry: Int, task: TransferTask)] = [
            (1, TransferTask(path: "d/a")), (2, TransferTask(path: "d/b")), (3, TransferTask(path: "d/c")),
            (5, TransferTask(path: "e")),
            (6, TransferTask(path: "f", kind: .resume, offset: 7, prefixSha256: Self.prefix)),
            (7, TransferTask(path: "g", kind: .resume, offset: 9, prefixSha256: Self.prefix)),
            (8, TransferTask(path: "h", kind: .chunked)), (9, TransferTask(path: "i", kind: .delta)),
        ]
        let rejected = [BinaryTasks.Rejection(entry: 4, message: "the server holds a folder here")]
        let parts = BinaryTasks.parts(tasks: tasks, rejected: rejected)
        #expect(parts.count == 1)
        #expect(parts[0].final)
        #expect(
            parts[0].runs == [
                .init(first: 1, count: 3, kind: .full), .init(first: 5, kind: .full),
                .init(first: 6, kind: .resume, offset: 7, prefixSha256: Self.prefix),
                .init(first: 7, kind: .resume, offset: 9, prefixSha256: Self.prefix),
                .init(first: 8, kind: .chunked), .init(first: 9, kind: .delta),
            ])
        #expect(parts[0].taskCount == tasks.count)
        #expect(try BinaryTasks.decode(BinaryTasks.encode(parts[0])) == parts[0])
    }

    @Test("a part holds at most 10,000 tasks and 1,000 rejections; there is always one final part")
    func splitting() throws {
        let tasks = (0..<25_000).map { (entry: $0 * 2, task: TransferTask(path: "f\($0)")) }
        let rejected = (0..<2_500).map { BinaryTasks.Rejection(entry: $0 * 2 + 1, message: "no") }
        let parts = BinaryTasks.parts(tasks: tasks, rejected: rejected)
        #expect(parts.map(\.taskCount) == [10_000, 10_000, 5_000])
        #expect(parts.map(\.rejected.count) == [1_000, 1_000, 500])
        #expect(parts.map(\.final) == [false, false, true])
        #expect(parts.flatMap(\.runs).map(\.first) == tasks.map(\.entry))
        for part in parts { #expect(try BinaryTasks.decode(BinaryTasks.encode(part)) == part) }

        let empty = BinaryTasks.parts(tasks: [], rejected: [])
        #expect(empty == [BinaryTasks.Part(runs: [], final: true)])
    }

    @Test("the parts of one manifest part that is not the last are none of them final")
    func partsBeforeTheLast() {
        var builder = BinaryTasks.PartBuilder()
        for entry in 0..<12_000 { builder.append(entry: entry, task: TransferTask(path: "f\(entry)")) }
        let parts = builder.parts(rejected: [], final: false)
        #expect(parts.map(\.taskCount) == [10_000, 2_000])
        #expect(parts.map(\.final) == [false, false])
        #expect(builder.parts(rejected: []).map(\.final) == [false, true])
    }

    @Test("the payload is laid out as Protocol.md shows")
    func layout() {
        let part = BinaryTasks.Part(
            runs: [.init(first: 1, count: 2, kind: .full)], rejected: [.init(entry: 3, message: "x")], final: true)
        #expect(
            Array(BinaryTasks.encode(part).readableBytesView) == [
                0x01, 0, 0, 0, 1,  // final, 1 run
                0x00, 0, 0, 0, 1, 0, 0, 0, 2,  // full, entries 1 and 2
                0, 0, 0, 1,  // 1 rejection
                0, 0, 0, 3, 0, 1, 0x78,  // entry 3, "x"
            ])
    }

    @Test("the example of Protocol.md decodes to what it says")
    func protocolExample() throws {
        let payload: [UInt8] =
            [
                0x01, 0x00, 0x00, 0x00, 0x02,
                0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
                0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
                0x00, 0x00, 0x00, 0x01,
                0x00, 0x00, 0x00, 0x03, 0x00, 0x1E,
            ] + Array("the server holds a folder here".utf8)
        #expect(payload.count + 2 == 0x41)
        let part = try BinaryTasks.decode(ByteBuffer(bytes: payload))
        #expect(
            part
                == .init(
                    runs: [.init(first: 1, count: 2, kind: .full), .init(first: 4, kind: .full)],
                    rejected: [.init(entry: 3, message: "the server holds a folder here")], final: true))
    }

    @Test("the server's tasks for the example of Protocol.md encode to exactly its bytes, frame header included")
    func protocolExampleEncodes() throws {
        // The manifest docs (0, a folder), docs/a.txt (1), docs/b.txt (2), pics (3), c.bin (4).
        let parts = BinaryTasks.parts(
            tasks: [
                (1, TransferTask(path: "docs/a.txt")), (2, TransferTask(path: "docs/b.txt")),
                (4, TransferTask(path: "c.bin")),
            ],
            rejected: [.init(entry: 3, message: "the server holds a folder here")])
        try #require(parts.count == 1)
        var wire = ByteBuffer()
        wire.writeFrame(Frame(kind: .tasks, payload: BinaryTasks.encode(parts[0])))
        let expected: [UInt8] =
            [
                0x00, 0x00, 0x00, 0x41, 0x07, 0x00,
                0x01, 0x00, 0x00, 0x00, 0x02,
                0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
                0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
                0x00, 0x00, 0x00, 0x01,
                0x00, 0x00, 0x00, 0x03, 0x00, 0x1E,
                0x74, 0x68, 0x65, 0x20, 0x73, 0x65, 0x72, 0x76, 0x65, 0x72, 0x20, 0x68, 0x6F, 0x6C, 0x64, 0x73,
                0x20, 0x61, 0x20, 0x66, 0x6F, 0x6C, 0x64, 0x65, 0x72, 0x20, 0x68, 0x65, 0x72, 0x65,
            ]
        #expect(Array(wire.readableBytesView) == expected)
    }

    @Test("a long rejection message is cut on a character boundary")
    func longMessage() throws {
        let message = String(repeating: "é", count: 600)  // 1,200 bytes
        let part = BinaryTasks.Part(runs: [], rejected: [.init(entry: 0, message: message)], final: true)
        let decoded = try BinaryTasks.decode(BinaryTasks.encode(part))
        #expect(decoded.rejected[0].message == String(repeating: "é", count: 512))
    }

    @Test(
        "malformed payloads are refused",
        arguments: [
            ("empty", []),
            ("unknown flag", [0x02, 0, 0, 0, 0, 0, 0, 0, 0]),
            ("unknown kind", [0x01, 0, 0, 0, 1, 0x04, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
            ("empty run", [0x01, 0, 0, 0, 1, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            ("run over the limit", [0x01, 0, 0, 0, 1, 0x00, 0, 0, 0, 0, 0, 0, 0x27, 0x11, 0, 0, 0, 0]),
            ("resume of two", [0x01, 0, 0, 0, 1, 0x01, 0, 0, 0, 0, 0, 0, 0, 2] + [UInt8](repeating: 1, count: 44)),
            (
                "resume at offset 0",
                [0x01, 0, 0, 0, 1, 0x01, 0, 0, 0, 0, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 44)
            ),
            ("truncated run", [0x01, 0, 0, 0, 1, 0x00, 0, 0]),
            ("no rejection count", [0x01, 0, 0, 0, 0]),
            ("too many rejections", [0x01, 0, 0, 0, 0, 0, 0, 0x03, 0xE9]),
            ("message not UTF-8", [0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0xFF]),
            ("trailing bytes", [0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]),
        ] as [(String, [UInt8])])
    func malformed(label: String, bytes: [UInt8]) {
        let error = #expect(throws: FileSyncError.self, "\(label)") { try BinaryTasks.decode(ByteBuffer(bytes: bytes)) }
        #expect(error?.code == .malformedFrame)
    }

    @Test("hexadecimal digits parse back to the bytes they spell; anything else is refused")
    func hex() {
        let bytes: [UInt8] = [0x00, 0x7f, 0xab, 0xff]
        #expect([UInt8](hex: bytes.hexString) == bytes)
        #expect([UInt8](hex: "ABff") == [0xab, 0xff])
        #expect([UInt8](hex: "abc") == nil)
        #expect([UInt8](hex: "zz") == nil)
    }
}
