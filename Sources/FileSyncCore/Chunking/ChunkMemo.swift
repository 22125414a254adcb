import Crypto

/// What a client remembers of a large file's chunks from its previous run: each chunk's length,
/// SHA-256 and ``ChunkFingerprint``. With it, an unchanged chunk costs a read and a fingerprint
/// instead of the content-defined cut and a SHA-256, and the chunk boundaries stay where they were.
///
/// Stored one per file (format below, integers big-endian), checked as a whole when loaded: a
/// memo that is torn or corrupt is simply not used.
///
/// ```
/// "FSMEMO01" | path length u16 | path (UTF-8) | chunk count u32
/// chunk count × (length u32 | SHA-256 (32 bytes) | fingerprint (16 bytes))
/// SHA-256 of every byte before it (32 bytes)
/// ```
public struct ChunkMemo: Equatable, Sendable {
    /// One chunk, in file order.
    public struct Chunk: Equatable, Sendable {
        public var entry: ChunkEntry
        public var fingerprint: ChunkFingerprint.Tag

        public init(entry: ChunkEntry, fingerprint: ChunkFingerprint.Tag) {
            self.entry = entry
            self.fingerprint = fingerprint
        }
    }

    /// The file's path relative to the source folder.
    public var path: String
    public var chunks: [Chunk]

    /// Files with more chunks than this (about 37 GiB) are not remembered, so that memory stays
    /// bounded (52 bytes a chunk).
    public static let maxChunks = 1 << 18

    static let magic = Array("FSMEMO01".utf8)
    static let chunkSize = 4 + ChunkHash.byteCount + ChunkFingerprint.byteCount

    public init(path: String, chunks: [Chunk]) {
        self.path = path
        self.chunks = chunks
    }

    /// The stored form.
    public func encoded() -> [UInt8] {
        let pathBytes = Array(path.utf8.prefix(Int(UInt16.max)))
        var bytes = Self.magic
        bytes.reserveCapacity(bytes.count + 6 + pathBytes.count + chunks.count * Self.chunkSize + 32)
        bytes.appendBigEndian(UInt16(pathBytes.count))
        bytes += pathBytes
        bytes.appendBigEndian(UInt32(chunks.count))
        for chunk in chunks {
            bytes.appendBigEndian(UInt32(chunk.entry.length))
            bytes += chunk.entry.hash.bytes
            bytes.appendBigEndian(chunk.fingerprint.high)
            bytes.appendBigEndian(chunk.fingerprint.low)
        }
        bytes += SHA256.hash(data: bytes)
        return bytes
    }

    /// Parses and checks a stored memo; `nil` when it is torn, corrupt, or has chunks that no
    /// chunker could have cut (empty or longer than `maxLength`).
    public init?(decoding bytes: [UInt8], maxLength: Int = ProtocolLimits.maxChunkSize) {
        guard bytes.count >= Self.magic.count + 6 + 32, bytes[..<Self.magic.count].elementsEqual(Self.magic) else {
            return nil
        }
        let end = bytes.count - 32
        guard SHA256.hash(data: bytes[..<end]).elementsEqual(bytes[end...]) else { return nil }
        var position = Self.magic.count
        func integer<T: FixedWidthInteger>(_: T.Type) -> T {
            defer { position += MemoryLayout<T>.size }
            return bytes[position..<position + MemoryLayout<T>.size].reduce(T(0)) { $0 << 8 | T($1) }
        }
        let pathLength = Int(integer(UInt16.self))
        guard end - position >= pathLength + 4,
            let path = String(validating: bytes[position..<position + pathLength], as: UTF8.self)
        else { return nil }
        position += pathLength
        let count = Int(integer(UInt32.self))
        guard count <= Self.maxChunks, end - position == count * Self.chunkSize else { return nil }
        var chunks: [Chunk] = []
        chunks.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(integer(UInt32.self))
            guard length >= 1, length <= maxLength else { return nil }
            let hash = bytes.withUnsafeBytes {
                ChunkHash(bytes: UnsafeRawBufferPointer(rebasing: $0[position..<position + ChunkHash.byteCount]))!
            }
            position += ChunkHash.byteCount
            let high = integer(UInt64.self)
            let low = integer(UInt64.self)
            chunks.append(
                Chunk(entry: ChunkEntry(length: length, hash: hash), fingerprint: .init(high: high, low: low)))
        }
        self.path = path
        self.chunks = chunks
    }
}
