import FileSyncCore
import NIOCore
import Testing

@Suite("Binary manifest") struct BinaryManifestTests {
    static let entries = [
        ManifestEntry(path: "docs", type: .dir, size: 0, mtimeNs: 1_718_000_000_000_000_000, mode: 0o755),
        ManifestEntry(path: "docs/a.txt", type: .file, size: 6, mtimeNs: 1_718_000_000_123_456_789, mode: 0o644),
        ManifestEntry(path: "docs/ab.txt", type: .file, size: 1 << 40, mtimeNs: -5, mode: 0o600),
        ManifestEntry(path: "ünïcödé/日本.txt", type: .file, size: 0, mtimeNs: 0, mode: 0o7777),
    ]

    @Test("the exact bytes of Protocol.md's example (§4, binary manifest frames), frame header included")
    func protocolExample() throws {
        let example = Array(Self.entries.prefix(2))  // docs (folder) and docs/a.txt
        var wire = ByteBuffer()
        wire.writeFrame(Frame(kind: .manifest, payload: BinaryManifest.encode(example, final: true)))
        let expected = """
            00 00 00 3F 05 00 01 00 00 00 02 01 00 00 00 04 64 6F 63 73
            00 00 00 00 00 00 00 00 17 D7 8F E5 CC 1F 00 00 01 ED
            00 00 04 00 06 2F 61 2E 74 78 74
            00 00 00 00 00 00 00 06 17 D7 8F E5 D3 7A CD 15 01 A4
            """.split(whereSeparator: \.isWhitespace).map { UInt8($0, radix: 16)! }
        #expect(Array(wire.readableBytesView) == expected)
        let decoded = try BinaryManifest.decode(ByteBuffer(bytes: expected.dropFirst(6)))
        #expect(decoded.entries == example && decoded.final)
    }

    @Test("entries round-trip, paths sent as what they do not share with the previous one")
    func roundTrip() throws {
        let payload = BinaryManifest.encode(Self.entries, final: true)
        let (decoded, final) = try BinaryManifest.decode(payload)
        #expect(decoded == Self.entries)
        #expect(final)
        // "docs/ab.txt" after "docs/a.txt": 6 bytes shared, "b.txt" sent.
        var bytes = payload
        bytes.moveReaderIndex(forwardBy: 5 + (23 + 4) + (23 + 6))  // "docs", then "/a.txt"
        #expect(bytes.readInteger(as: UInt8.self) == 0)
        #expect(bytes.readInteger(as: UInt16.self) == 6)
        #expect(bytes.readInteger(as: UInt16.self) == 5)
        #expect(try BinaryManifest.decode(BinaryManifest.encode([], final: false)).entries.isEmpty)
    }

    @Test("the exact layout of one entry")
    func layout() {
        let entry = ManifestEntry(path: "a", type: .file, size: 2, mtimeNs: 3, mode: 0o644)
        let payload = BinaryManifest.encode([entry], final: true)
        #expect(
            Array(payload.readableBytesView) == [
                1, 0, 0, 0, 1,  // final, count 1
                0, 0, 0, 0, 1, 0x61,  // file, shared 0, length 1, "a"
                0, 0, 0, 0, 0, 0, 0, 2,  // size
                0, 0, 0, 0, 0, 0, 0, 3,  // mtimeNs
                0x01, 0xA4,  // mode 0o644
            ])
    }

    @Test(
        "malformed parts are refused: flags, count, prefix, UTF-8, type, truncation, trailing bytes",
        arguments: [
            [2, 0, 0, 0, 0],  // unknown flag
            [1, 0, 0, 0x27, 0x11],  // 10,001 entries
            [1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0x61],  // truncated entry
            [1, 0, 0, 0, 1, 0, 0, 5, 0, 1, 0x61] + [UInt8](repeating: 0, count: 18),  // shared > previous
            [1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0xFF] + [UInt8](repeating: 0, count: 18),  // not UTF-8
            [1, 0, 0, 0, 1, 7, 0, 0, 0, 1, 0x61] + [UInt8](repeating: 0, count: 18),  // unknown type
            [1, 0, 0, 0, 1, 0, 0, 0, 0x10, 0x01] + [UInt8](repeating: 0x61, count: 4097 + 18),  // path too long
            [1, 0, 0, 0, 0, 9],  // trailing byte
        ] as [[UInt8]])
    func malformed(bytes: [UInt8]) {
        let error = #expect(throws: FileSyncError.self) { try BinaryManifest.decode(ByteBuffer(bytes: bytes)) }
        #expect(error?.code == .malformedFrame)
    }
}
