import NIOCore

/// Splits a connection's byte stream into ``Frame``s with the rules of ``FrameDecoder``, copying
/// each payload byte at most once.
///
/// NIO's `ByteToMessageHandler` gathers the reads into one buffer and slices the frames out of it.
/// A frame longer than one read (a 1 MiB block arrives in TLS records of 16 KiB) was copied into
/// that buffer, and again whenever the buffer was compacted or grown while an earlier frame still
/// shared it: a restore's receiving thread spent more time copying than decrypting. Here a frame
/// that lies whole in one read is a slice of it, and one that spans reads is copied once into a
/// buffer of its own.
///
/// That buffer is made at most ``maxGrowth`` times what has arrived of the frame, never more than
/// its checked length (growing rounds up to a power of two), so a peer cannot make us allocate
/// much memory it has not sent.
public final class FrameAssembler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = Frame

    /// How much larger than the bytes received so far a frame's buffer may be made at once.
    public static let maxGrowth = 64
    /// A frame's buffer starts at least this large (or at its length, if shorter).
    public static let minimumCapacity = 4_096

    private let decoder: FrameDecoder
    /// The first bytes of a header that a read cut short.
    private var headerBytes = ByteBuffer()
    /// The frame being assembled: its checked header and its payload so far.
    private var partial: (header: Frame.Header, payload: ByteBuffer)?
    /// Reads that arrived while an earlier one was still being split (a re-entrant read).
    private var queued = CircularBuffer<ByteBuffer>()
    private var splitting = false
    private var failed = false

    /// Checks headers with `decoder`'s limits.
    public init(decoder: FrameDecoder = FrameDecoder()) {
        self.decoder = decoder
    }

    /// The bytes held for the frame being assembled: its buffer's capacity (0 between frames).
    public var heldBytes: Int { partial?.payload.capacity ?? 0 }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        queued.append(unwrapInboundIn(data))
        guard !splitting else { return }
        splitting = true
        defer { splitting = false }
        do {
            while !failed, var input = queued.popFirst() {
                while !failed, input.readableBytes > 0 {
                    guard let frame = try take(from: &input, allocator: context.channel.allocator) else { continue }
                    context.fireChannelRead(wrapInboundOut(frame))
                }
            }
        } catch {
            failed = true
            queued.removeAll()
            context.fireErrorCaught(error)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        endOfInput(context: context)
        context.fireChannelInactive()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(ChannelEvent.inputClosed) = event as? ChannelEvent { endOfInput(context: context) }
        context.fireUserInboundEventTriggered(event)
    }

    /// The peer sent nothing more: a frame cut short is an error, never a silent truncation.
    private func endOfInput(context: ChannelHandlerContext) {
        guard !failed, partial != nil || headerBytes.readableBytes > 0 else { return }
        failed = true
        partial = nil
        context.fireErrorCaught(FileSyncError(.connectionClosed, "connection closed in the middle of a frame"))
    }

    /// Takes bytes from `input` towards the next frame; returns the frame once it is complete.
    private func take(from input: inout ByteBuffer, allocator: ByteBufferAllocator) throws -> Frame? {
        if let (header, payload) = partial {
            partial = nil  // The payload buffer stays uniquely referenced: appending copies nothing else.
            return append(from: &input, to: payload, of: header)
        }
        guard let header = try nextHeader(from: &input) else { return nil }
        if input.readableBytes >= header.payloadLength {
            return Frame(
                kind: header.kind, flags: header.flags, payload: input.readSlice(length: header.payloadLength)!)
        }
        let payload = allocator.buffer(capacity: capacity(for: header, arrived: input.readableBytes))
        return append(from: &input, to: payload, of: header)
    }

    /// Copies what `input` has of the payload; returns the frame once it is complete.
    private func append(from input: inout ByteBuffer, to payload: ByteBuffer, of header: Frame.Header) -> Frame? {
        var payload = payload
        let count = min(header.payloadLength - payload.readableBytes, input.readableBytes)
        if payload.writableBytes < count {
            payload.reserveCapacity(capacity(for: header, arrived: payload.readableBytes + count))
        }
        var piece = input.readSlice(length: count)!
        payload.writeBuffer(&piece)
        guard payload.readableBytes == header.payloadLength else {
            partial = (header, payload)
            return nil
        }
        return Frame(kind: header.kind, flags: header.flags, payload: payload)
    }

    /// A payload buffer's size once `arrived` of its bytes are here: all of it when that is at
    /// least 1/``maxGrowth`` of the frame (always so for a 1 MiB block in 16 KiB records).
    private func capacity(for header: Frame.Header, arrived: Int) -> Int {
        min(header.payloadLength, max(Self.minimumCapacity, arrived * Self.maxGrowth))
    }

    /// The next header, checked, once its bytes are all here (they may arrive over several reads).
    private func nextHeader(from input: inout ByteBuffer) throws -> Frame.Header? {
        if headerBytes.readableBytes == 0, let header = try decoder.header(in: input) {
            input.moveReaderIndex(forwardBy: Frame.headerSize)
            return header
        }
        var piece = input.readSlice(length: min(Frame.headerSize - headerBytes.readableBytes, input.readableBytes))!
        headerBytes.writeBuffer(&piece)
        guard let header = try decoder.header(in: headerBytes) else { return nil }
        headerBytes.clear()
        return header
    }
}
