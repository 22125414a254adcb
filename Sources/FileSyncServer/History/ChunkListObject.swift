import FileSyncCore

/// A piece of a large file's chunk list, stored as an object of its own beside the tree objects
/// (`history/trees/`, named by its SHA-256) so that a snapshot of a changed large file writes only
/// the pieces that changed, not the whole list again.
///
/// A file of 1 GiB has thousands of chunks: listed inside its folder's tree object, one byte changed
/// in it made the next snapshot write that whole list (about 36 bytes a chunk) in a new tree object.
/// Lists longer than ``inlineLimit`` chunks are cut into pieces instead, and the tree names the
/// pieces. The cuts depend on the chunks' hashes (after a chunk whose hash's last byte is a multiple
/// of ``cutDivisor``, and after ``maxPieceLength`` chunks at the latest), as the chunks' on the
/// content: a changed chunk changes its own piece only, and a chunk inserted or removed shifts no
/// later cut.
///
/// Encoding (integers big-endian): the magic `FSLIST01`, the chunk count (u32, at least 1), then
/// each chunk's length (u32) and SHA-256.
struct ChunkListObject: Sendable, Equatable {
    let chunks: [ChunkEntry]

    static let magic = Array("FSLIST01".utf8)
    /// Lists up to this many chunks stay inside the tree object (as before pieces existed, so that
    /// the trees of folders without large files keep their hashes).
    static let inlineLimit = 128
    /// A piece ends after a chunk whose hash's last byte is a multiple of this: pieces average
    /// this many chunks (about 4.5 KB).
    static let cutDivisor: UInt8 = 128
    /// A piece ends after this many chunks at the latest (about 36 KB).
    static let maxPieceLength = 1_024

    /// Whether a file with `chunks` has its list in pieces.
    static func isSplit(_ chunks: [ChunkEntry]) -> Bool { chunks.count > inlineLimit }

    /// `chunks` cut into pieces, in order.
    static func pieces(of chunks: [ChunkEntry]) -> [ChunkListObject] {
        var pieces: [ChunkListObject] = []
        var start = 0
        for index in chunks.indices {
            let cut = chunks[index].hash.bytes[ChunkHash.byteCount - 1] % cutDivisor == 0
            if cut || index + 1 - start == maxPieceLength || index == chunks.count - 1 {
                pieces.append(ChunkListObject(chunks: Array(chunks[start...index])))
                start = index + 1
            }
        }
        return pieces
    }

    init(chunks: [ChunkEntry]) {
        self.chunks = chunks
    }

    /// The encoding described above.
    func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes(Self.magic)
        writer.u32(UInt32(chunks.count))
        for chunk in chunks {
            writer.u32(UInt32(chunk.length))
            writer.bytes(chunk.hash.bytes)
        }
        return writer.output
    }

    /// The SHA-256 of ``encoded()``: the object's name.
    var hash: ChunkHash { encoded().withUnsafeBytes { ChunkHash(of: $0) } }

    /// Decodes `bytes`; throws on anything but a well-formed encoding of at most
    /// ``maxPieceLength`` chunks.
    init(decoding bytes: [UInt8]) throws {
        var reader = ByteReader(bytes)
        guard try reader.bytes(Self.magic.count) == Self.magic else { throw ByteReader.malformed }
        let count = Int(try reader.u32())
        guard (1...Self.maxPieceLength).contains(count) else { throw ByteReader.malformed }
        var chunks: [ChunkEntry] = []
        chunks.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(try reader.u32())
            chunks.append(ChunkEntry(length: length, hash: try reader.hash()))
        }
        guard reader.isAtEnd else { throw ByteReader.malformed }
        self.chunks = chunks
    }
}
