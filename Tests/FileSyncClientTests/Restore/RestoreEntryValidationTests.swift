import FileSyncCore
import Testing

@testable import FileSyncClient

@Suite("Restore entry validation")
struct RestoreEntryValidationTests {
    static let chunks = [1, 2, 3].map { byte in
        RestoreChunk(length: 1 << 20, sha256: String(repeating: String(byte), count: 64))
    }

    static func digest(_ chunks: [RestoreChunk]) -> String {
        var digest = ChunkListDigest()
        for chunk in chunks { digest.add(ChunkEntry(length: chunk.length, hash: chunk.hash!)) }
        return digest.finalize()
    }

    static func entry(sha256: String, digest: String?, chunks: [RestoreChunk]? = chunks) -> RestoreEntry {
        var entry = RestoreEntry(
            path: "big", type: "file", size: 3 << 20, mtimeNs: 1, mode: 0o644, sha256: sha256, chunks: chunks)
        entry.digest = digest
        return entry
    }

    @Test("a file listed by its chunk-list digest is taken when the digest is its chunks'")
    func chunkListDigest() throws {
        let entry = Self.entry(sha256: Self.digest(Self.chunks), digest: "chunks")
        #expect(try entry.validated().string == "big")
        #expect(entry.isChunkListDigest)
    }

    @Test("an unknown digest, a digest without chunks, or one that is not the chunks' is malformedMessage")
    func refused() {
        let good = Self.digest(Self.chunks)
        let bad = [
            Self.entry(sha256: good, digest: "blake3"),
            Self.entry(sha256: good, digest: "chunks", chunks: nil),
            Self.entry(sha256: String(repeating: "a", count: 64), digest: "chunks"),
        ]
        for entry in bad {
            #expect {
                try entry.validated()
            } throws: { error in
                (error as? FileSyncError)?.code == .malformedMessage
            }
        }
        #expect(throws: Never.self) { try Self.entry(sha256: good, digest: nil).validated() }
    }
}
