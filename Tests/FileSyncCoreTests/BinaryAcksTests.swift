import FileSyncCore
import NIOCore
import Testing

@Suite("Binary ack frames")
struct BinaryAcksTests {
    @Test("stored entries form ascending runs, failures keep code and message, and acks round-trip")
    func runs() throws {
        let failure = ErrorMessage(code: "checksumMismatch", message: "SHA-256 of \"c\" is wrong")
        let results: [(entry: Int, result: FileResult)] = [
            (7, FileResult(path: "g")), (3, FileResult(path: "c", error: failure)), (1, FileResult(path: "a")),
            (2, FileResult(path: "b")), (4, FileResult(path: "d")), (9, FileResult(path: "i")),
        ]
        let acks = BinaryAcks.acks(for: results)
        #expect(
            acks == [BinaryAcks.Ack(stored: [1..<3, 4..<5, 7..<8, 9..<10], failed: [.init(entry: 3, error: failure)])])
        #expect(try BinaryAcks.decode(BinaryAcks.encode(acks[0])) == acks[0])
        #expect(
            Array(BinaryAcks.encode(BinaryAcks.Ack(stored: [1..<3])).readableBytesView) == [
                0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0,
            ])
    }

    @Test("large acks are split so that no frame holds more than 100,000 runs or 10,000 failures")
    func splitting() throws {
        let failure = ErrorMessage(code: "storageFailed", message: "disk full")
        let results = (0..<250_000).map {
            (entry: $0, result: FileResult(path: "", error: $0 % 2 == 0 ? nil : failure))
        }
        // Every other entry failed, so each stored entry is a run of its own.
        let acks = BinaryAcks.acks(for: Array(results[..<50_000]) + results[200_000...])
        #expect(acks.map(\.stored.count) == [50_000, 0, 0, 0, 0])
        #expect(acks.map(\.failed.count) == Array(repeating: 10_000, count: 5))
        let big = BinaryAcks.acks(for: results)
        #expect(big.map(\.stored.count) == [100_000, 25_000] + Array(repeating: 0, count: 11))
        #expect(big.map(\.failed.count) == Array(repeating: 10_000, count: 12) + [5_000])
        #expect(big.flatMap(\.stored).map(\.lowerBound) == Array(stride(from: 0, to: 250_000, by: 2)))
        for ack in big.prefix(2) { #expect(try BinaryAcks.decode(BinaryAcks.encode(ack)) == ack) }
        #expect(BinaryAcks.acks(for: []) == [BinaryAcks.Ack()])
    }

    @Test("the example of Protocol.md decodes to what it says")
    func protocolExample() throws {
        let payload: [UInt8] = [
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
            0x00, 0x04, 0x10, 0x63, 0x68, 0x65, 0x63, 0x6B, 0x73, 0x75, 0x6D, 0x4D, 0x69, 0x73, 0x6D, 0x61, 0x74, 0x63,
            0x68, 0x00, 0x10, 0x53, 0x48, 0x41, 0x2D, 0x32, 0x35, 0x36, 0x20, 0x6D, 0x69, 0x73, 0x6D, 0x61, 0x74, 0x63,
            0x68,
        ]
        #expect(payload.count + 2 == 57)
        let ack = try BinaryAcks.decode(ByteBuffer(bytes: payload))
        #expect(
            ack
                == BinaryAcks.Ack(
                    stored: [1..<2],
                    failed: [
                        .init(entry: 4, error: ErrorMessage(code: "checksumMismatch", message: "SHA-256 mismatch"))
                    ]))
    }

    @Test("the server's acknowledgement of the example of Protocol.md encodes to exactly its bytes")
    func protocolExampleEncodes() throws {
        // docs/a.txt (entry 1) stored, b.bin (entry 4) failed.
        let failure = ErrorMessage(code: "checksumMismatch", message: "SHA-256 mismatch")
        let acks = BinaryAcks.acks(for: [
            (entry: 1, result: FileResult(path: "docs/a.txt")),
            (entry: 4, result: FileResult(path: "b.bin", error: failure)),
        ])
        try #require(acks.count == 1)
        var wire = ByteBuffer()
        wire.writeFrame(Frame(kind: .ack, payload: BinaryAcks.encode(acks[0])))
        let expected: [UInt8] = [
            0x00, 0x00, 0x00, 0x39, 0x08, 0x00,
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04,
            0x10, 0x63, 0x68, 0x65, 0x63, 0x6B, 0x73, 0x75, 0x6D, 0x4D, 0x69, 0x73, 0x6D, 0x61, 0x74, 0x63, 0x68,
            0x00, 0x10, 0x53, 0x48, 0x41, 0x2D, 0x32, 0x35, 0x36, 0x20, 0x6D, 0x69, 0x73, 0x6D, 0x61, 0x74, 0x63, 0x68,
        ]
        #expect(Array(wire.readableBytesView) == expected)
    }

    @Test(
        "malformed ack frames are refused",
        arguments: [
            ("empty", []),
            ("empty run", [0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0]),
            ("too many runs", [0, 0x01, 0x86, 0xA1]),
            ("truncated failure", [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 3, 0x61]),
            ("empty code", [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]),
            ("code not printable ASCII", [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0x20, 0, 0]),
            ("message not UTF-8", [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0x61, 0, 1, 0xFF]),
            ("trailing bytes", [0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ] as [(String, [UInt8])])
    func malformed(label: String, bytes: [UInt8]) {
        let error = #expect(throws: FileSyncError.self, "\(label)") { try BinaryAcks.decode(ByteBuffer(bytes: bytes)) }
        #expect(error?.code == .malformedFrame)
    }
}
