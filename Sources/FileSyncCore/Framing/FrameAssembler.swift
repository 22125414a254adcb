import NIOCore

/// Splits a connection's byte stream into ``Frame``s with the rules of ``FrameDecoder``, copying
/// each payload byte once at most (a little more only while a frame's buffer grows, below).
///
/// NIO's `ByteToMessageHandler` gathers the reads into one buffer and slices the frames out of it.
/// A frame longer than one read (a 1 MiB block arrives in TLS records of 16 KiB) was copied into
/// that buffer, and again whenever the buffer was compacted or grown while an earlier frame still
/// shared it: a restore's receiving thread spent more time copying than decrypting. Here a frame
/// that lies whole in one read is a slice of it, and one that spans reads is copied once into a
/// buffer of its own.
///
/// That buffer is sized for at most ``maxGrowth`` times what has arrived of the frame, and at most
/// its checked length; NIO rounds every buffer up to a power of two, so it holds at most twice
/// that. A peer cannot make us allocate much memory it has not sent: a 6-byte header declaring a
/// 16 MiB control frame gets ``minimumCapacity`` bytes. A frame that does grow (it arrived in small
/// pieces) is moved by `realloc`, which may copy what it holds so far, at most 1/``maxGrowth`` of
/// it each time.
///
/// Frames whole in one read stay slices although, under TLS, a slice makes the TLS handler copy its
/// whole receive buffer before it decrypts into it again: copying every frame instead measured
/// slower for a server receiving a backup's chunk frames.
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
    /// The input ended while reads were being split (re-entrantly): checked once they are done.
    private var endedWhileSplitting = false

    private let minimumCapacity: Int
    /// Where the buffers of frames that span reads come from; `nil`: the channel's allocator.
    private let payloadAllocator: ByteBufferAllocator?

    /// Checks headers with `decoder`'s limits; a frame's buffer starts at `minimumCapacity` bytes
    /// at least (smaller only to exercise its growth, as the fuzz target does).
    ///
    /// - Parameter payloadAllocator: makes the buffers of frames that span reads (the client and
    ///   the server pass one whose buffers are page-aligned, so that a large file's data frames go
    ///   to the disk and the hasher from them as they are); `nil`: the channel's allocator.
    public init(
        decoder: FrameDecoder = FrameDecoder(), minimumCapacity: Int = FrameAssembler.minimumCapacity,
        payloadAllocator: ByteBufferAllocator? = nil
    ) {
        self.decoder = decoder
        self.minimumCapacity = minimumCapacity
        self.payloadAllocator = payloadAllocator
    }

    /// The bytes held for the frame being assembled: its buffer's capacity (0 between frames).
    public var heldBytes: Int { partial?.payload.capacity ?? 0 }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        queued.append(unwrapInboundIn(data))
        guard !splitting else { return }
        splitting = true
        do {
            while !failed, var input = queued.popFirst() {
                while !failed, input.readableBytes > 0 {
                    guard let frame = try take(from: &input, allocator: payloadAllocator ?? context.channel.allocator)
                    else { continue }
                    context.fireChannelRead(wrapInboundOut(frame))
                }
            }
        } catch {
            failed = true
            queued.removeAll()
            context.fireErrorCaught(error)
        }
        splitting = false
        if endedWhileSplitting { endOfInput(context: context) }
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
        endedWhileSplitting = splitting
        guard !splitting, !failed, partial != nil || headerBytes.readableBytes > 0 else { return }
        failed = true
        partial = nil
        context.fireErrorCaught(FileSyncError(.connectionClosed, "connection closed in the middle of a frame"))
    }

    /// Takes bytes from `input` towards the next frame; returns the frame once it is complete.
    private func take(from input: inout ByteBuffer, allocator: ByteBufferAllocator) throws -> Frame? {
        if var current = partial {
            // Taken out, so that the payload's storage has one reference and appending to it
            // copies nothing else.
            partial = nil
            return append(from: &input, to: &current.payload, of: current.header)
        }
        guard let header = try nextHeader(from: &input) else { return nil }
        if input.readableBytes >= header.payloadLength {
            return Frame(
                kind: header.kind, flags: header.flags, payload: input.readSlice(length: header.payloadLength)!)
        }
        var payload = allocator.buffer(capacity: capacity(for: header, arrived: input.readableBytes))
        return append(from: &input, to: &payload, of: header)
    }

    /// Copies what `input` has of the payload; returns the frame once it is complete.
    private func append(from input: inout ByteBuffer, to payload: inout ByteBuffer, of header: Frame.Header)
        -> Frame?
    {
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
    /// least 1/``maxGrowth`` of the frame. A 1 MiB block whose first read brings the rest of a
    /// 16 KiB record after the header asks for 16,378 × 64 bytes, which NIO rounds up to 1 MiB.
    private func capacity(for header: Frame.Header, arrived: Int) -> Int {
        min(header.payloadLength, max(minimumCapacity, arrived * Self.maxGrowth))
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
