import NIOCore

/// One unit on the TCP stream: a 4-byte big-endian length, a kind byte, a flags byte, then the payload.
///
/// The length counts the kind byte, the flags byte and the payload. See Protocol.md, "Framing".
public struct Frame: Sendable, Equatable {
    /// What the payload holds.
    public enum Kind: UInt8, Sendable {
        /// A UTF-8 JSON object: one ``Message``.
        case control = 0x01
        /// A block of file content for the file opened by the last `FILE_HEADER`.
        case data = 0x02
        /// With the `chunks` capability: the entries (length and SHA-256) of the next chunks of a
        /// delta transfer; see ``ChunkEntry``.
        case chunkList = 0x03
        /// With the `chunks` capability: one chunk of a chunked or delta transfer, its 32-byte
        /// SHA-256 followed by its content.
        case chunk = 0x04
        /// With the `binaryManifest` capability: one manifest part, see ``BinaryManifest``.
        case manifest = 0x05
        /// With the `fileFrames` capability: a whole file of at most 1 MiB, see ``WholeFile``.
        case file = 0x06
        /// With the `binaryTasks` capability: one `TASKS` part, see ``BinaryTasks``.
        case tasks = 0x07
        /// With the `binaryTasks` capability: one `FILE_ACK`, see ``BinaryAcks``.
        case ack = 0x08
    }

    /// Bits of the flags byte. Unknown bits must be zero; a frame with unknown bits is rejected.
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// Data, chunk and file frames only: the block (for a chunk or a file frame, the content
        /// after its fields) is one complete zlib stream (RFC 1950).
        public static let deflated = Flags(rawValue: 0x01)
        /// Data, chunk and file frames only, with the `zstd` capability: the block is one complete zstd
        /// frame (RFC 8878) that declares its content size. Never together with ``deflated``.
        public static let zstd = Flags(rawValue: 0x02)

        /// The bits this version understands.
        public static let known: Flags = [.deflated, .zstd]
    }

    /// Bytes that follow the length prefix before the payload starts.
    public static let headerBytesAfterLength = 2
    /// Size of the full frame header, the length prefix included.
    public static let headerSize = 4 + headerBytesAfterLength

    /// A frame's header, checked: what its payload is and how many bytes it has.
    public struct Header: Sendable, Equatable {
        public var kind: Kind
        public var flags: Flags
        public var payloadLength: Int
    }

    public var kind: Kind
    public var flags: Flags
    public var payload: ByteBuffer

    public init(kind: Kind, flags: Flags = [], payload: ByteBuffer) {
        self.kind = kind
        self.flags = flags
        self.payload = payload
    }
}
