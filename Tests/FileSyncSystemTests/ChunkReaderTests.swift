import FileSyncCore
import FileSyncSystem
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Chunk reader and memos") struct ChunkReaderTests {
    static let key = ChunkFingerprint(key: Array(1...16))!

    /// Writes `bytes` to a temporary file and reads all its chunks, with the memo `previous`.
    static func read(
        _ bytes: [UInt8], previous: [ChunkMemo.Chunk] = [], fingerprint: ChunkFingerprint? = key
    ) throws -> (chunks: [ChunkEntry], memo: [ChunkMemo.Chunk]?, recognized: Int64) {
        let path = NSTemporaryDirectory() + "chunk-reader-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var reader = ChunkReader(fd: fd, fingerprint: fingerprint, previous: previous)
        var chunks: [ChunkEntry] = []
        var offset: Int64 = 0
        while let chunk = try reader.next() {
            #expect(chunk.offset == offset)
            #expect(ChunkHash(of: chunk.bytes) == chunk.entry.hash)
            chunks.append(chunk.entry)
            offset += Int64(chunk.entry.length)
        }
        #expect(offset == Int64(bytes.count))
        return (chunks, reader.remembered, reader.recognizedBytes)
    }

    @Test("with the memo of the previous version, a changed byte is cut and hashed anew and the rest recognized")
    func changedByte() throws {
        var bytes = TestData.random(6 << 20, seed: 11)
        let first = try Self.read(bytes)
        #expect(first.recognized == 0)
        let memo = try #require(first.memo)
        #expect(memo.map(\.entry) == first.chunks)

        bytes[3 << 20] ^= 0x01
        let fresh = try Self.read(bytes, fingerprint: nil)
        let second = try Self.read(bytes, previous: memo)
        #expect(second.chunks == fresh.chunks, "the same chunks as a full cut")
        let changed = zip(second.chunks, first.chunks).filter { $0 != $1 }.count
        #expect(changed == 1)
        #expect(second.recognized >= Int64(bytes.count - (512 << 10)), "recognized \(second.recognized) bytes")
    }

    @Test("an inserted byte and an append fall back into step with the remembered boundaries")
    func insertionAndAppend() throws {
        let original = TestData.random(6 << 20, seed: 12)
        let memo = try #require(try Self.read(original).memo)
        var inserted = original
        inserted.insert(0x42, at: 1 << 20)
        let withMemo = try Self.read(inserted, previous: memo)
        #expect(withMemo.chunks == (try Self.read(inserted, fingerprint: nil)).chunks)
        #expect(withMemo.recognized >= Int64(original.count - (2 << 20)))

        let appended = original + TestData.random(1 << 20, seed: 13)
        let grown = try Self.read(appended, previous: memo)
        #expect(grown.recognized >= Int64(original.count - (512 << 10)))
        #expect(Set(grown.chunks).intersection(memo.map(\.entry)).count >= memo.count - 1)
    }

    @Test("a memo of other content, or made with another key, recognizes nothing and changes no hash")
    func foreignMemo() throws {
        let bytes = TestData.random(3 << 20, seed: 14)
        let other = try #require(try Self.read(TestData.random(3 << 20, seed: 15)).memo)
        let result = try Self.read(bytes, previous: other)
        #expect(result.recognized == 0)
        #expect(result.chunks == (try Self.read(bytes, fingerprint: nil)).chunks)

        let memo = try #require(try Self.read(bytes).memo)
        let otherKey = try #require(ChunkFingerprint(key: Array(repeating: 7, count: 16)))
        #expect(try Self.read(bytes, previous: memo, fingerprint: otherKey).recognized == 0)
    }

    @Test("a memo round-trips; a torn, altered or truncated one is refused")
    func memoFormat() throws {
        let memo = ChunkMemo(
            path: "a/b.img", chunks: try #require(try Self.read(TestData.random(2 << 20, seed: 16)).memo))
        let bytes = memo.encoded()
        #expect(ChunkMemo(decoding: bytes) == memo)
        #expect(ChunkMemo(decoding: Array(bytes.dropLast())) == nil)
        var altered = bytes
        altered[20] ^= 1
        #expect(ChunkMemo(decoding: altered) == nil)
        #expect(ChunkMemo(decoding: Array(bytes.prefix(40))) == nil)
        #expect(ChunkMemo(decoding: []) == nil)
        #expect(ChunkMemo(decoding: bytes, maxLength: 1000) == nil, "chunks longer than the cutter allows")
    }
}
