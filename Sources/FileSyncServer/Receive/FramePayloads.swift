import FileSyncCore
import NIOCore

/// The content of data, chunk and file frames, decompressed with the codecs the session negotiated
/// (Protocol.md §5.4): one place for the rule, used for every kind of frame that may be compressed.
/// Holds no session state, so a sender of files (restore) can use it as well.
struct FramePayloads {
    private let decompressor: BlockDecompressor
    /// Reused between frames: decompressed content lives here until the next frame.
    private var scratch = ByteBuffer()

    init(codecs: Frame.Flags) {
        decompressor = BlockDecompressor(allowed: codecs)
    }

    /// The content of a frame whose compressed part is `payload` (the frame's payload after any
    /// header the frame kind has), at most `maxOutput` bytes once decompressed.
    mutating func content(of payload: ByteBuffer, flags: Frame.Flags, maxOutput: Int) throws -> ByteBuffer {
        guard BlockDecompressor.isCompressed(flags) else { return payload }
        try decompressor.decompress(payload, flags: flags, into: &scratch, maxOutput: maxOutput)
        return scratch
    }

    /// A data frame's content.
    mutating func data(_ frame: Frame) throws -> ByteBuffer {
        try content(of: frame.payload, flags: frame.flags, maxOutput: ProtocolLimits.maxDataPayload)
    }

    /// A chunk frame's hash and content (Protocol.md §6.7).
    mutating func chunk(_ frame: Frame) throws -> (hash: ChunkHash, content: ByteBuffer) {
        var payload = frame.payload
        guard let hash = ChunkHash(reading: &payload), payload.readableBytes > 0 else {
            throw FileSyncError(.malformedFrame, "a CHUNK frame must hold a 32-byte hash and at least one byte")
        }
        let content = try content(of: payload, flags: frame.flags, maxOutput: ProtocolLimits.maxChunkSize)
        guard content.readableBytes <= ProtocolLimits.maxChunkSize else {
            throw FileSyncError(.frameTooLarge, "a chunk of \(content.readableBytes) bytes exceeds the limit")
        }
        return (hash, content)
    }

    /// A file frame's content, which must be exactly the size its header declares.
    mutating func wholeFile(_ file: WholeFile, flags: Frame.Flags) throws -> ByteBuffer {
        let header = file.header
        let content = try content(of: file.content, flags: flags, maxOutput: Int(header.size))
        guard content.readableBytes == header.size else {
            throw FileSyncError(
                .sizeMismatch,
                "the file frame for \"\(header.path)\" holds \(content.readableBytes) of \(header.size) bytes")
        }
        return content
    }
}
