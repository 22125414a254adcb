import Crypto

/// Hashes a stream of content the way a chunk list describes it: the bytes of each listed length
/// are hashed as one chunk, and the result is the chunk-list digest (Protocol.md §5.7) of the
/// lengths and the hashes found. It equals the digest of the list exactly when every chunk holds
/// what the list says, in order, so checking it checks the whole content, each byte hashed once
/// (the restore of an entry listed with `"digest":"chunks"`, §11.3).
public struct ChunkListHasher {
    private let lengths: [Int]
    private var index = 0
    /// Bytes of the current chunk hashed so far.
    private var filled = 0
    private var chunk = SHA256()
    private var digest = ChunkListDigest()
    /// Whether bytes came after the last listed chunk.
    private var overran = false

    /// - Parameter lengths: the listed chunks' lengths, in file order.
    public init(lengths: [Int]) {
        self.lengths = lengths
    }

    public mutating func update(bufferPointer bytes: UnsafeRawBufferPointer) {
        var rest = bytes
        while !rest.isEmpty {
            guard index < lengths.count else {
                overran = true
                return
            }
            let taken = min(lengths[index] - filled, rest.count)
            chunk.update(bufferPointer: UnsafeRawBufferPointer(rebasing: rest[..<taken]))
            filled += taken
            rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
            if filled == lengths[index] {
                digest.add(ChunkEntry(length: filled, hash: ChunkHash(chunk.finalize())))
                (chunk, filled, index) = (SHA256(), 0, index + 1)
            }
        }
    }

    /// The chunk-list digest of the content hashed; `nil` when it did not fill the listed chunks
    /// exactly (cut short, or longer), which no listed digest matches.
    public func finalize() -> [UInt8]? {
        guard !overran, index == lengths.count else { return nil }
        return digest.finalizeBytes()
    }
}

/// What a file's content is checked against as it is written: its whole SHA-256, or its chunk-list
/// digest at the listed boundaries (``ChunkListHasher``).
public enum ContentHasher {
    case whole(SHA256)
    case chunkList(ChunkListHasher)

    public mutating func update(bufferPointer bytes: UnsafeRawBufferPointer) {
        switch self {
        case .whole(var hasher):
            hasher.update(bufferPointer: bytes)
            self = .whole(hasher)
        case .chunkList(var hasher):
            hasher.update(bufferPointer: bytes)
            self = .chunkList(hasher)
        }
    }

    /// The 32-byte digest; `nil` when content hashed by chunks did not follow its list.
    public func finalize() -> [UInt8]? {
        switch self {
        case .whole(let hasher): Array(hasher.finalize())
        case .chunkList(let hasher): hasher.finalize()
        }
    }
}
