import Crypto
import FileSyncCore
import Testing

@Suite("Chunk-list hasher")
struct ChunkListHasherTests {
    static let content: [UInt8] = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
    static let lengths = [100_000, 150_000, 50_000]

    /// The chunk-list digest of `content` cut at `lengths`, computed the plain way.
    static func expected(_ content: [UInt8], _ lengths: [Int]) -> [UInt8] {
        var digest = ChunkListDigest()
        var start = 0
        for length in lengths {
            digest.add(
                ChunkEntry(length: length, hash: content[start..<start + length].withUnsafeBytes { ChunkHash(of: $0) }))
            start += length
        }
        return digest.finalizeBytes()
    }

    static func hash(_ content: [UInt8], pieces: [Int], lengths: [Int] = lengths) -> [UInt8]? {
        var hasher = ChunkListHasher(lengths: lengths)
        var start = 0
        for piece in pieces + [content.count] where start < content.count {
            let end = min(content.count, start + piece)
            content[start..<end].withUnsafeBytes { hasher.update(bufferPointer: $0) }
            start = end
        }
        return hasher.finalize()
    }

    @Test("the digest of a stream fed in any pieces is the chunk-list digest at the listed lengths")
    func anyPieces() {
        let expected = Self.expected(Self.content, Self.lengths)
        for pieces in [[300_000], [1], [99_999, 2, 150_000], [7, 70_000, 65_536, 1_000_000]] {
            #expect(Self.hash(Self.content, pieces: pieces) == expected, "\(pieces)")
        }
        var whole = ContentHasher.chunkList(ChunkListHasher(lengths: Self.lengths))
        Self.content.withUnsafeBytes { whole.update(bufferPointer: $0) }
        #expect(whole.finalize() == expected)
    }

    @Test("a changed byte, a stream cut short or running long never gives the listed digest")
    func mismatches() {
        let expected = Self.expected(Self.content, Self.lengths)
        var changed = Self.content
        changed[200_000] ^= 1
        #expect(Self.hash(changed, pieces: [4096]) != expected)
        #expect(Self.hash(Array(Self.content.dropLast()), pieces: [4096]) == nil)
        #expect(Self.hash(Self.content + [0], pieces: [4096]) == nil)
        #expect(Self.hash(Self.content, pieces: [4096], lengths: [100_000, 200_000]) != expected)
    }

    @Test("the whole form is plain SHA-256")
    func wholeForm() {
        var hasher = ContentHasher.whole(SHA256())
        Self.content.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        #expect(hasher.finalize() == Array(SHA256.hash(data: Self.content)))
    }
}
