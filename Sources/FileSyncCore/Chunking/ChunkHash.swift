import Crypto
import NIOCore

/// The SHA-256 of one chunk's content: 32 bytes, compared and hashed as four words.
public struct ChunkHash: Hashable, Sendable, CustomStringConvertible {
    private var words: (UInt64, UInt64, UInt64, UInt64)

    /// The size of a hash on the wire.
    public static let byteCount = 32

    /// Hashes `content`.
    public init(of content: UnsafeRawBufferPointer) {
        self.init(SHA256.hash(data: content))
    }

    public init(_ digest: SHA256Digest) {
        words = digest.withUnsafeBytes { Self.load($0) }
    }

    /// Reads 32 bytes; `nil` when `bytes` holds a different count.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == Self.byteCount else { return nil }
        words = Self.load(bytes)
    }

    /// Reads 32 bytes from `buffer`, moving its reader index; `nil` when fewer remain.
    public init?(reading buffer: inout ByteBuffer) {
        guard
            let hash = buffer.readWithUnsafeReadableBytes({ bytes -> (Int, ChunkHash?) in
                guard bytes.count >= Self.byteCount else { return (0, nil) }
                return (Self.byteCount, ChunkHash(bytes: UnsafeRawBufferPointer(rebasing: bytes[..<Self.byteCount])))
            })
        else { return nil }
        self = hash
    }

    /// The 32 bytes, in order.
    public var bytes: [UInt8] {
        var copy = words
        return withUnsafeBytes(of: &copy) { Array($0) }
    }

    /// Appends the 32 bytes to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        var copy = words
        withUnsafeBytes(of: &copy) { _ = buffer.writeBytes($0) }
    }

    public var description: String { bytes.hexString }

    public static func == (lhs: ChunkHash, rhs: ChunkHash) -> Bool {
        lhs.words == rhs.words
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
    }

    private static func load(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64, UInt64, UInt64) {
        (
            bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
            bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
            bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        )
    }
}
