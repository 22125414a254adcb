import FileSyncCore
@_spi(CustomByteBufferAllocator) import NIOCore
import NIOEmbedded
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Frame assembler")
struct FrameAssemblerTests {
    private func encoded(_ frames: [Frame]) -> ByteBuffer { FrameStream.encoded(frames) }

    private func assembleAll(_ reads: [ByteBuffer]) throws -> [Frame] {
        try FrameStream.frames(through: FrameAssembler(), reads: reads)
    }

    private func header(length: Int, kind: Frame.Kind) -> ByteBuffer {
        var header = ByteBuffer()
        header.writeInteger(UInt32(length + Frame.headerBytesAfterLength))
        header.writeInteger(kind.rawValue)
        header.writeInteger(UInt8(0))
        return header
    }

    /// Frames of many sizes and contents, so that a byte put in the wrong place shows.
    private let sample: [Frame] =
        [
            Frame(kind: .control, payload: ByteBuffer(string: #"{"type":"DONE"}"#)),
            Frame(kind: .data, payload: ByteBuffer()),
            Frame(kind: .data, flags: .deflated, payload: ByteBuffer(bytes: [1, 2, 3])),
        ]
        + (0..<6).map { index in
            Frame(
                kind: .data,
                payload: ByteBuffer(bytes: (0..<(40_000 + index * 7_919)).map { UInt8(($0 + index) % 251) }))
        }

    @Test("frames split into single bytes come out whole")
    func singleBytes() throws {
        let frames = Array(sample.prefix(4))
        let reads = encoded(frames).readableBytesView.map { ByteBuffer(bytes: [$0]) }
        #expect(try assembleAll(reads) == frames)
    }

    @Test("frames coalesced into one read come out separately")
    func coalesced() throws {
        #expect(try assembleAll([encoded(sample)]) == sample)
    }

    @Test("frames split at every size of read come out the same", arguments: [1, 5, 6, 7, 500, 16_384, 65_536])
    func splitReads(size: Int) throws {
        var bytes = encoded(sample)
        var reads: [ByteBuffer] = []
        while bytes.readableBytes > 0 { reads.append(bytes.readSlice(length: min(size, bytes.readableBytes))!) }
        #expect(try assembleAll(reads) == sample)
    }

    @Test("a frame split at every point of its header and payload comes out the same")
    func everySplitPoint() throws {
        let bytes = encoded(Array(sample.prefix(3)))
        for offset in 1..<bytes.readableBytes {
            var rest = bytes
            let first = rest.readSlice(length: offset)!
            #expect(try assembleAll([first, rest]) == Array(sample.prefix(3)), "split at \(offset)")
        }
    }

    @Test("a length above its kind's limit is refused as soon as the header is complete")
    func oversize() throws {
        for (kind, limit) in [
            (Frame.Kind.data, ProtocolLimits.maxDataPayload), (.control, ProtocolLimits.maxControlPayload),
            (.chunkList, ProtocolLimits.maxChunkListPayload),
        ] {
            // The header arrives in two reads, no payload after it.
            let bytes = header(length: limit + 1, kind: kind)
            let reads = [bytes.getSlice(at: 0, length: 3)!, bytes.getSlice(at: 3, length: 3)!]
            let error = #expect(throws: FileSyncError.self) { try assembleAll(reads) }
            #expect(error?.code == .frameTooLarge)
        }
    }

    @Test(
        "unknown kinds, unknown flags, flags on control frames and short lengths are malformed",
        arguments: [
            [0, 0, 0, 2, 9, 0], [0, 0, 0, 2, 2, 0x80], [0, 0, 0, 2, 1, 1], [0, 0, 0, 1, 1, 0], [0, 0, 0, 2, 2, 3],
        ] as [[UInt8]])
    func malformed(header: [UInt8]) {
        let error = #expect(throws: FileSyncError.self) { try assembleAll([ByteBuffer(bytes: header)]) }
        #expect(error?.code == .malformedFrame)
    }

    @Test("after a refused header nothing more comes out of the connection")
    func stopsAfterError() throws {
        let channel = EmbeddedChannel(handler: FrameAssembler())
        var reads = ByteBuffer(bytes: [0, 0, 0, 2, 9, 0])
        reads.writeImmutableBuffer(encoded(sample))
        #expect(throws: FileSyncError.self) { try channel.writeInbound(reads) }
        try channel.writeInbound(encoded(sample))
        #expect(try channel.readInbound(as: Frame.self) == nil)
        _ = try? channel.finish()
    }

    @Test("a connection closed inside a header or a payload is an error, not a silent truncation", arguments: [3, 100])
    func truncated(at length: Int) throws {
        var bytes = encoded([sample[4]])
        let channel = EmbeddedChannel(handler: FrameAssembler())
        try channel.writeInbound(bytes.readSlice(length: length)!)
        let error = #expect(throws: FileSyncError.self) { try channel.finish() }
        #expect(error?.code == .connectionClosed)
    }

    @Test("a frame whole in one read is a slice of that read, not a copy")
    func wholeFrameIsSlice() throws {
        let channel = EmbeddedChannel(handler: FrameAssembler())
        let read = encoded([sample[5]])
        try channel.writeInbound(read)
        let frame = try #require(try channel.readInbound(as: Frame.self))
        #expect(frame == sample[5])
        let readStart = read.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let payloadStart = frame.payload.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(payloadStart == readStart + UInt(Frame.headerSize))
        #expect(try channel.finish().isClean)
    }

    @Test("reads that arrive while a frame is being handed on (re-entrantly) are cut after the ones before")
    func reentrantRead() throws {
        let channel = EmbeddedChannel()
        let late = Frame(kind: .control, payload: ByteBuffer(string: #"{"type":"LATE"}"#))
        try channel.pipeline.syncOperations.addHandler(FrameAssembler())
        try channel.pipeline.syncOperations.addHandler(ReadOnFirstFrame(read: encoded([late])))
        try channel.writeInbound(encoded(Array(sample.prefix(3))))
        var frames: [Frame] = []
        while let frame = try channel.readInbound(as: Frame.self) { frames.append(frame) }
        #expect(frames == Array(sample.prefix(3)) + [late])
        #expect(try channel.finish().isClean)
    }

    @Test("input closed inside a payload is an error")
    func inputClosedInsidePayload() throws {
        var bytes = encoded([sample[4]])
        let channel = EmbeddedChannel(handler: FrameAssembler())
        try channel.writeInbound(bytes.readSlice(length: 100)!)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        let error = #expect(throws: FileSyncError.self) { try channel.throwIfErrorCaught() }
        #expect(error?.code == .connectionClosed)
        _ = try? channel.finish()
    }

    @Test("a frame's buffer grows with what arrives of it: a header alone does not allocate its length")
    func boundedBuffer() throws {
        let assembler = FrameAssembler()
        let channel = EmbeddedChannel(handler: assembler)
        let length = ProtocolLimits.maxControlPayload
        var first = header(length: length, kind: .control)
        first.writeRepeatingByte(0x20, count: 10)
        try channel.writeInbound(first)
        #expect(assembler.heldBytes == FrameAssembler.minimumCapacity)
        var arrived = 10
        for size in [50_000, 1 << 20] {
            try channel.writeInbound(ByteBuffer(repeating: 0x20, count: size))
            arrived += size
            #expect(assembler.heldBytes >= arrived)
            // Growing rounds up to a power of two, so twice the bound at most.
            #expect(assembler.heldBytes <= 2 * arrived * FrameAssembler.maxGrowth)
        }
        try channel.writeInbound(ByteBuffer(repeating: 0x20, count: length - arrived))
        let frame = try #require(try channel.readInbound(as: Frame.self))
        #expect(frame.payload.readableBytes == length)
        #expect(assembler.heldBytes == 0)
        #expect(try channel.finish().isClean)
    }

    @Test("a 1 MiB block arriving in 16 KiB records gets one buffer of its own length")
    func blockInRecords() throws {
        let assembler = FrameAssembler()
        let channel = EmbeddedChannel(handler: assembler)
        let frame = Frame(kind: .data, payload: ByteBuffer(bytes: (0..<(1 << 20)).map { UInt8($0 % 253) }))
        var bytes = encoded([frame])
        try channel.writeInbound(bytes.readSlice(length: 16_384)!)
        #expect(assembler.heldBytes == 1 << 20)
        while bytes.readableBytes > 0 {
            try channel.writeInbound(bytes.readSlice(length: min(16_384, bytes.readableBytes))!)
        }
        #expect(try channel.readInbound(as: Frame.self) == frame)
        #expect(try channel.finish().isClean)
    }

    @Test("a frame that spans reads is built in a buffer of the allocator given; one whole in a read stays a slice")
    func payloadAllocator() throws {
        let channel = EmbeddedChannel(handler: FrameAssembler(payloadAllocator: Self.wideAligned))
        let spanning = sample[4]
        var bytes = encoded([spanning, sample[5]])
        try channel.writeInbound(bytes.readSlice(length: 1_000)!)
        try channel.writeInbound(bytes.readSlice(length: spanning.payload.readableBytes + Frame.headerSize - 1_000)!)
        let assembled = try #require(try channel.readInbound(as: Frame.self))
        #expect(assembled == spanning)
        #expect(assembled.payload.withUnsafeReadableBytes { Int(bitPattern: $0.baseAddress) } % Self.wideAlignment == 0)
        let whole = bytes
        try channel.writeInbound(bytes)
        let sliced = try #require(try channel.readInbound(as: Frame.self))
        #expect(sliced == sample[5])
        let start = whole.withUnsafeReadableBytes { Int(bitPattern: $0.baseAddress) }
        #expect(sliced.payload.withUnsafeReadableBytes { Int(bitPattern: $0.baseAddress) } == start + Frame.headerSize)
        #expect(try channel.finish().isClean)
    }

    /// An alignment no buffer of NIO's own allocator has by chance (it rounds to 16 bytes).
    static let wideAlignment = 1 << 16

    /// An allocator whose buffers are aligned to ``wideAlignment``.
    static let wideAligned = ByteBufferAllocator(
        allocate: { size in
            var pointer: UnsafeMutableRawPointer?
            return posix_memalign(&pointer, 1 << 16, max(size, 1)) == 0 ? pointer : nil
        },
        reallocate: { old, oldSize, newSize in
            var pointer: UnsafeMutableRawPointer?
            guard posix_memalign(&pointer, 1 << 16, max(newSize, 1)) == 0, let pointer else { return nil }
            if let old { pointer.copyMemory(from: old, byteCount: min(oldSize, newSize)) }
            return pointer
        },
        deallocate: { pointer in free(pointer) },
        copy: { destination, source, count in destination.copyMemory(from: source, byteCount: count) }
    )
}

/// Sends one more read from the head of the pipeline when the first frame passes, as a handler
/// that reacts to a frame by reading synchronously would.
private final class ReadOnFirstFrame: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias InboundOut = Frame
    private var read: ByteBuffer?

    init(read: ByteBuffer) { self.read = read }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
        if let read {
            self.read = nil
            context.pipeline.fireChannelRead(read)
        }
    }
}
