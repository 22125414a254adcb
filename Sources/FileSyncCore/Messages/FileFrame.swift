import NIOCore

/// With the `fileFrames` capability: a whole small file in one file frame (kind `06`), standing for
/// `FILE_HEADER`, its data and `FILE_END`. For a backup of many small files this halves the frames
/// and removes the two JSON messages per file that dominated both peers' work.
///
/// Payload, big-endian: `u16` path length, the path (UTF-8), `i64` size, `i64` mtimeNs, `u16` mode,
/// the 32-byte SHA-256 of the content, then the content: `size` bytes when the frame has no flag,
/// one complete zlib stream (flag `01`) or zstd frame (flag `02`) of them otherwise.
public struct WholeFile: Sendable {
    /// Path, size, mtime and mode, as a `FILE_HEADER` would carry them (no offset, no transfer).
    public var header: FileHeader
    /// SHA-256 of the (decompressed) content.
    public var sha256: ChunkHash
    /// The content as it travels: compressed when the frame's flags say so.
    public var content: ByteBuffer

    /// Bytes of the payload besides the path and the content.
    static let fixedBytes = 2 + 8 + 8 + 2 + ChunkHash.byteCount

    /// The largest file a file frame may carry: one data block.
    public static let maxSize = ProtocolLimits.maxDataPayload

    public init(header: FileHeader, sha256: ChunkHash, content: ByteBuffer) {
        self.header = header
        self.sha256 = sha256
        self.content = content
    }

    /// The frame payload: the fields, then `content` as given (already compressed, if at all).
    public static func payload(
        path: String, size: Int64, mtimeNs: Int64, mode: UInt32, sha256: ChunkHash,
        content: UnsafeRawBufferPointer
    ) -> ByteBuffer {
        let pathBytes = path.utf8
        var buffer = ByteBufferAllocator().buffer(capacity: fixedBytes + pathBytes.count + content.count)
        buffer.writeInteger(UInt16(truncatingIfNeeded: pathBytes.count))
        buffer.writeBytes(pathBytes)
        buffer.writeInteger(size)
        buffer.writeInteger(mtimeNs)
        buffer.writeInteger(UInt16(truncatingIfNeeded: mode))
        sha256.write(to: &buffer)
        buffer.writeBytes(content)
        return buffer
    }

    /// Decodes a file frame's payload. The path still needs ``RelativePath`` validation, and the
    /// content decompressing (by the frame's flags) and checking against `size` and `sha256`.
    ///
    /// - Throws: `malformedFrame` when the payload is truncated, the path is longer than
    ///   ``ProtocolLimits/maxPathBytes`` or not UTF-8, the size is outside 0 … ``maxSize`` or the
    ///   mode above `0o7777`.
    public init(decoding payload: ByteBuffer) throws {
        var buffer = payload
        guard let pathLength = buffer.readInteger(as: UInt16.self).map(Int.init),
            pathLength <= ProtocolLimits.maxPathBytes,
            let pathBytes = buffer.readSlice(length: pathLength),
            let size = buffer.readInteger(as: Int64.self),
            let mtimeNs = buffer.readInteger(as: Int64.self),
            let mode = buffer.readInteger(as: UInt16.self),
            let sha256 = ChunkHash(reading: &buffer)
        else {
            throw FileSyncError(.malformedFrame, "a file frame is truncated or its path is too long")
        }
        guard let path = pathBytes.withUnsafeReadableBytes({ String(validating: $0, as: UTF8.self) }) else {
            throw FileSyncError(.malformedFrame, "a file frame's path is not valid UTF-8")
        }
        guard size >= 0, size <= Int64(Self.maxSize), mode <= 0o7777 else {
            throw FileSyncError(.malformedFrame, "the file frame for \"\(path)\" has an invalid size or mode")
        }
        self.init(
            header: FileHeader(path: path, size: size, mtimeNs: mtimeNs, mode: UInt32(mode)), sha256: sha256,
            content: buffer)
    }
}
