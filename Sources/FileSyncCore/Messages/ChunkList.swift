import Crypto
import NIOCore

/// One chunk of a file: its length and the SHA-256 of its content.
///
/// On the wire (a `CHUNK_LIST` frame, and the list digest of `FILE_END`) an entry is 36 bytes:
/// the length as a big-endian u32, then the 32 hash bytes.
public struct ChunkEntry: Hashable, Sendable {
    public var length: Int
    public var hash: ChunkHash

    /// Bytes per entry on the wire.
    public static let encodedSize = 4 + ChunkHash.byteCount

    public init(length: Int, hash: ChunkHash) {
        self.length = length
        self.hash = hash
    }

    /// Appends the 36-byte form.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(length))
        hash.write(to: &buffer)
    }

    /// Decodes a `CHUNK_LIST` payload: whole entries only, at least one and at most
    /// ``ProtocolLimits/maxChunksPerList``, each 1 to ``ProtocolLimits/maxChunkSize`` bytes long.
    public static func list(from payload: ByteBuffer) throws -> [ChunkEntry] {
        var payload = payload
        let count = payload.readableBytes / encodedSize
        guard payload.readableBytes % encodedSize == 0, count >= 1, count <= ProtocolLimits.maxChunksPerList else {
            throw FileSyncError(
                .malformedFrame,
                "a CHUNK_LIST frame must hold 1 to \(ProtocolLimits.maxChunksPerList) entries of \(encodedSize) bytes; "
                    + "it has \(payload.readableBytes) bytes")
        }
        var entries: [ChunkEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(payload.readInteger(as: UInt32.self)!)
            guard length >= 1, length <= ProtocolLimits.maxChunkSize else {
                throw FileSyncError(.malformedFrame, "a chunk length of \(length) bytes is out of bounds")
            }
            entries.append(ChunkEntry(length: length, hash: ChunkHash(reading: &payload)!))
        }
        return entries
    }
}

/// The digest `FILE_END` carries for chunked and delta transfers: SHA-256 over the 36-byte
/// entries of every chunk of the file, in order. Because each chunk is checked against its own
/// hash, this digest pins the whole content and its order.
public struct ChunkListDigest {
    private var hasher = SHA256()
    private var scratch = ByteBuffer()
    /// Total length of the chunks added so far.
    public private(set) var length: Int64 = 0
    /// Number of chunks added so far.
    public private(set) var count = 0

    public init() {}

    public mutating func add(_ entry: ChunkEntry) {
        scratch.clear()
        entry.write(to: &scratch)
        scratch.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        length += Int64(entry.length)
        count += 1
    }

    /// Lowercase hex SHA-256 of the entries.
    public func finalize() -> String {
        hasher.finalize().hexString
    }

    /// The SHA-256 of the entries, as bytes.
    public func finalizeBytes() -> [UInt8] {
        Array(hasher.finalize())
    }
}
