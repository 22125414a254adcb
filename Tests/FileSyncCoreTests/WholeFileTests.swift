import FileSyncCore
import NIOCore
import Testing

@Suite("File frames") struct WholeFileTests {
    static let hello: [UInt8] = Array("hello\n".utf8)

    static func payload(path: String = "docs/a.txt", size: Int64 = 6, mode: UInt32 = 0o644) -> ByteBuffer {
        hello.withUnsafeBytes {
            WholeFile.payload(
                path: path, size: size, mtimeNs: 1_718_000_000_123_456_789, mode: mode, sha256: ChunkHash(of: $0),
                content: $0)
        }
    }

    @Test("a file frame round-trips: header fields, SHA-256 and content")
    func roundTrip() throws {
        let file = try WholeFile(decoding: Self.payload())
        #expect(
            file.header
                == FileHeader(path: "docs/a.txt", size: 6, mtimeNs: 1_718_000_000_123_456_789, mode: 0o644))
        #expect(file.sha256.description == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")
        #expect(Array(file.content.readableBytesView) == Self.hello)
    }

    @Test("the exact bytes of Protocol.md's example, frame header included")
    func protocolExample() throws {
        var wire = ByteBuffer()
        wire.writeFrame(Frame(kind: .file, payload: Self.payload()))
        let expected = """
            00 00 00 46 06 00 00 0A 64 6F 63 73 2F 61 2E 74 78 74 00 00 00 00 00 00 00 06
            17 D7 8F E5 D3 7A CD 15 01 A4 58 91 B5 B5 22 D5 DF 08 6D 0F F0 B1 10 FB D9 D2
            1B B4 FC 71 63 AF 34 D0 82 86 A2 E8 46 F6 BE 03 68 65 6C 6C 6F 0A
            """.split(whereSeparator: \.isWhitespace).map { UInt8($0, radix: 16)! }
        #expect(Array(wire.readableBytesView) == expected)
    }

    @Test(
        "malformed file frames are refused: truncation, long or non-UTF-8 path, size, mode",
        arguments: [
            [0, 1, 0x61],  // ends after the path
            [0x10, 0x01] + [UInt8](repeating: 0x61, count: 4097 + 50),  // path of 4,097 bytes
            [0, 1, 0xFF] + [UInt8](repeating: 0, count: 50),  // path not UTF-8
            [0, 1, 0x61, 0, 0, 0, 0, 0, 0x10, 0, 1] + [UInt8](repeating: 0, count: 42),  // 1 MiB + 1
            [0, 1, 0x61, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 42),  // -1
            [0, 1, 0x61] + [UInt8](repeating: 0, count: 16) + [0x10, 0x00] + [UInt8](repeating: 0, count: 32),  // mode
        ] as [[UInt8]])
    func malformed(bytes: [UInt8]) {
        let error = #expect(throws: FileSyncError.self) { try WholeFile(decoding: ByteBuffer(bytes: bytes)) }
        #expect(error?.code == .malformedFrame)
    }

    @Test("the frame decoder bounds file frames by their own limit and allows compression flags on them")
    func decoderLimits() throws {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(ProtocolLimits.maxFileFramePayload + 3))
        buffer.writeBytes([0x06, 0x00])
        let error = #expect(throws: FileSyncError.self) { try decoder.decode(buffer: &buffer) }
        #expect(error?.code == .frameTooLarge)

        var zstd = ByteBuffer()
        zstd.writeInteger(UInt32(2 + 3))
        zstd.writeBytes([0x06, 0x02, 1, 2, 3])
        #expect(try decoder.decode(buffer: &zstd)?.flags == .zstd)
        #expect(ProtocolLimits.maxFileFramePayload == 1_052_724)
    }
}
