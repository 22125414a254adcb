import NIOCore

/// Splits a byte stream into ``Frame``s, however the bytes were split or coalesced on the way.
///
/// Every length is checked before any payload is buffered: a prefix larger than the limit for its
/// kind is an error at once, so a peer cannot make us allocate memory it has not sent.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = Frame

    public let maxControlPayload: Int
    public let maxDataPayload: Int

    public init(
        maxControlPayload: Int = ProtocolLimits.maxControlPayload,
        maxDataPayload: Int = ProtocolLimits.maxDataPayload
    ) {
        self.maxControlPayload = maxControlPayload
        self.maxDataPayload = maxDataPayload
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        guard let header = try header(in: buffer),
            buffer.readableBytes >= Frame.headerSize + header.payloadLength
        else { return nil }
        buffer.moveReaderIndex(forwardBy: Frame.headerSize)
        let payload = buffer.readSlice(length: header.payloadLength)!
        return Frame(kind: header.kind, flags: header.flags, payload: payload)
    }

    /// The header at the start of `buffer`'s readable bytes, checked (kind, flags, the payload's
    /// length against the limit for its kind), or nil while fewer than ``Frame/headerSize`` bytes
    /// are there. ``FrameAssembler`` checks with the same rules.
    public func header(in buffer: ByteBuffer) throws -> Frame.Header? {
        guard buffer.readableBytes >= Frame.headerSize,
            let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
            let kindByte = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt8.self),
            let flagsByte = buffer.getInteger(at: buffer.readerIndex + 5, as: UInt8.self)
        else { return nil }

        guard length >= Frame.headerBytesAfterLength else {
            throw FileSyncError(.malformedFrame, "frame length \(length) is shorter than its header")
        }
        guard let kind = Frame.Kind(rawValue: kindByte) else {
            throw FileSyncError(.malformedFrame, "unknown frame kind 0x\(String(kindByte, radix: 16))")
        }
        let flags = Frame.Flags(rawValue: flagsByte)
        guard Frame.Flags.known.isSuperset(of: flags),
            kind == .data || kind == .chunk || kind == .file || flags.isEmpty,
            flags != [.deflated, .zstd]
        else {
            throw FileSyncError(.malformedFrame, "unknown flags 0x\(String(flagsByte, radix: 16)) on a \(kind) frame")
        }
        let payloadLength = Int(length) - Frame.headerBytesAfterLength
        let limit =
            switch kind {
            case .control, .manifest, .tasks, .ack: maxControlPayload
            case .data: maxDataPayload
            case .chunk: maxDataPayload + ChunkHash.byteCount
            case .chunkList: ProtocolLimits.maxChunkListPayload
            case .file: ProtocolLimits.maxFileFramePayload
            }
        guard payloadLength <= limit else {
            throw FileSyncError(.frameTooLarge, "\(kind) frame of \(payloadLength) bytes exceeds the limit of \(limit)")
        }
        return Frame.Header(kind: kind, flags: flags, payloadLength: payloadLength)
    }

    /// Whether to move the unread bytes (a partial frame) to the front of the buffer, freeing the
    /// frames already read: only when they are few next to what that frees, or once a lot is read.
    /// NIO's default moves them after every frame read, so a stream of large chunk frames had half
    /// of its bytes copied once more, and a whole copy of the buffer while a frame still used it.
    public func shouldReclaimBytes(buffer: ByteBuffer) -> Bool {
        let read = buffer.readerIndex
        return read >= Self.reclaimAlways || (read >= 4096 && buffer.readableBytes * 8 <= read)
    }

    /// Bytes read after which they are freed whatever is left to move (keeps the buffer bounded).
    public static let reclaimAlways = 2 << 20

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        if seenEOF && buffer.readableBytes > 0 {
            throw FileSyncError(.connectionClosed, "connection closed in the middle of a frame")
        }
        return nil
    }
}
