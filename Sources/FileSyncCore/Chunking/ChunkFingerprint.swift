import Crypto

/// A fast keyed fingerprint of a chunk's content (GMAC: AES-GCM authenticating the content, with a
/// secret key and a fixed nonce), about five times faster than SHA-256 here, so that a client can
/// recognize the chunks of a large file that did not change since its previous run without
/// computing their SHA-256 again.
///
/// Never sent anywhere: it only decides whether a SHA-256 remembered locally (``ChunkMemo``) still
/// describes the content. Two different contents of at most 1 MiB share a fingerprint with a
/// probability below 2⁻¹¹², whatever they are, as long as the key stays secret.
public struct ChunkFingerprint: Sendable {
    private let key: [UInt8]

    /// The size of a key, in bytes.
    public static let keySize = 16
    private static let nonce = [UInt8](repeating: 0, count: 12)

    /// The size of a fingerprint, in bytes.
    public static let byteCount = 16

    /// - Parameter key: ``keySize`` random bytes, kept private to the machine.
    public init?(key: [UInt8]) {
        guard key.count == Self.keySize else { return nil }
        self.key = key
    }

    /// The fingerprint of `content`; `nil` if the cipher failed (then nothing can be recognized).
    public func callAsFunction(_ content: UnsafeRawBufferPointer) -> Tag? {
        guard
            let sealed = try? AES.GCM.seal(
                [UInt8](), using: SymmetricKey(data: key), nonce: try AES.GCM.Nonce(data: Self.nonce),
                authenticating: content),
            sealed.tag.count == Self.byteCount
        else { return nil }
        return Tag(bytes: Array(sealed.tag))
    }

    /// A fingerprint value.
    public struct Tag: Hashable, Sendable {
        public var high: UInt64
        public var low: UInt64

        public init(high: UInt64, low: UInt64) {
            self.high = high
            self.low = low
        }

        init(bytes: [UInt8]) {
            high = bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
            low = bytes.dropFirst(8).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        }
    }
}
