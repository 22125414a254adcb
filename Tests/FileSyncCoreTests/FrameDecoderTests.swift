import FileSyncCore
import NIOCore
import NIOEmbedded
import Testing

@Suite("Frame decoder")
struct FrameDecoderTests {
    private func encoded(_ frames: [Frame]) -> ByteBuffer { FrameStream.encoded(frames) }

    private func decodeAll(_ chunks: [ByteBuffer], decoder: FrameDecoder = FrameDecoder()) throws -> [Frame] {
        try FrameStream.frames(through: ByteToMessageHandler(decoder), reads: chunks)
    }

    private let sample: [Frame] = [
        Frame(kind: .control, payload: ByteBuffer(string: #"{"type":"DONE"}"#)),
        Frame(kind: .data, payload: ByteBuffer(bytes: (0..<1000).map { UInt8($0 % 251) })),
        Frame(kind: .data, flags: .deflated, payload: ByteBuffer(bytes: [1, 2, 3])),
        Frame(kind: .data, payload: ByteBuffer()),
    ]

    @Test("frames split into single bytes come out whole")
    func splitReads() throws {
        let bytes = encoded(sample)
        let chunks = bytes.readableBytesView.map { ByteBuffer(bytes: [$0]) }
        #expect(try decodeAll(chunks) == sample)
    }

    @Test("frames coalesced into one read come out separately")
    func coalescedReads() throws {
        #expect(try decodeAll([encoded(sample)]) == sample)
    }

    @Test("a frame split at every possible point decodes the same", arguments: [1, 5, 6, 7, 500, 1005])
    func splitAtOffset(offset: Int) throws {
        var bytes = encoded(sample)
        let first = bytes.readSlice(length: offset)!
        #expect(try decodeAll([first, bytes]) == sample)
    }

    @Test("the header is checked byte for byte")
    func headerLayout() {
        let frame = Frame(kind: .control, payload: ByteBuffer(string: #"{"type":"DONE"}"#))
        let bytes = Array(encoded([frame]).readableBytesView)
        #expect(Array(bytes.prefix(6)) == [0x00, 0x00, 0x00, 0x11, 0x01, 0x00])
    }

    @Test("a length above the limit is refused before any payload arrives")
    func oversizeLength() throws {
        var header = ByteBuffer()
        header.writeInteger(UInt32.max)
        header.writeInteger(Frame.Kind.data.rawValue)
        header.writeInteger(UInt8(0))
        #expect(throws: FileSyncError.self) { try decodeAll([header]) }
        let error = #expect(throws: FileSyncError.self) { try decodeAll([header]) }
        #expect(error?.code == .frameTooLarge)
    }

    @Test("a data frame larger than the data limit is refused even below the control limit")
    func oversizeDataFrame() throws {
        var header = ByteBuffer()
        header.writeInteger(UInt32(ProtocolLimits.maxDataPayload + 3))
        header.writeInteger(Frame.Kind.data.rawValue)
        header.writeInteger(UInt8(0))
        let error = #expect(throws: FileSyncError.self) { try decodeAll([header]) }
        #expect(error?.code == .frameTooLarge)
    }

    @Test(
        "chunk frames may hold a hash plus 1 MiB, chunk lists 4,096 entries; one byte more is refused at once",
        arguments: [
            (Frame.Kind.chunk, ProtocolLimits.maxDataPayload + 32), (.chunkList, ProtocolLimits.maxChunkListPayload),
        ])
    func chunkFrameLimits(kind: Frame.Kind, limit: Int) throws {
        var header = ByteBuffer()
        header.writeInteger(UInt32(limit + 3))
        header.writeInteger(kind.rawValue)
        header.writeInteger(UInt8(0))
        let error = #expect(throws: FileSyncError.self) { try decodeAll([header]) }
        #expect(error?.code == .frameTooLarge)
        let frame = Frame(kind: kind, payload: ByteBuffer(repeating: 7, count: limit))
        #expect(try decodeAll([encoded([frame])]) == [frame])
    }

    @Test(
        "unknown kinds, unknown flags, flags on control frames and short lengths are malformed",
        arguments: [
            [0, 0, 0, 2, 9, 0], [0, 0, 0, 2, 2, 0x80], [0, 0, 0, 2, 1, 1], [0, 0, 0, 1, 1, 0], [0, 0, 0, 2, 3, 1],
            [0, 0, 0, 2, 4, 4], [0, 0, 0, 2, 2, 3], [0, 0, 0, 2, 1, 2],
        ] as [[UInt8]])
    func malformedHeaders(header: [UInt8]) {
        let error = #expect(throws: FileSyncError.self) { try decodeAll([ByteBuffer(bytes: header)]) }
        #expect(error?.code == .malformedFrame)
    }

    @Test("a connection closed inside a frame is an error, not a silent truncation")
    func truncatedAtEOF() throws {
        var bytes = encoded([sample[1]])
        let partial = bytes.readSlice(length: 100)!
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        try channel.writeInbound(partial)
        #expect(throws: FileSyncError.self) { try channel.finish() }
    }

    @Test("read frames are freed only when the partial frame left to move is small next to them, or past 2 MiB")
    func reclaimsOnlyCheaply() {
        let decoder = FrameDecoder()
        func buffer(read: Int, unread: Int) -> ByteBuffer {
            var buffer = ByteBuffer(repeating: 0, count: read + unread)
            buffer.moveReaderIndex(forwardBy: read)
            return buffer
        }
        // One 512 KiB chunk frame read, most of the next one waiting: left where it is.
        #expect(!decoder.shouldReclaimBytes(buffer: buffer(read: 512 << 10, unread: 400 << 10)))
        // Four frames read, a sliver of the next: moved.
        #expect(decoder.shouldReclaimBytes(buffer: buffer(read: 2 << 20 - 1, unread: 100 << 10)))
        #expect(!decoder.shouldReclaimBytes(buffer: buffer(read: 1 << 20, unread: 200 << 10)))
        // Past the bound, whatever is left.
        #expect(decoder.shouldReclaimBytes(buffer: buffer(read: FrameDecoder.reclaimAlways, unread: 1 << 20)))
        // Small reads are never worth it.
        #expect(!decoder.shouldReclaimBytes(buffer: buffer(read: 1000, unread: 0)))
    }

    @Test("frames split across many reads decode the same while the buffer is reclaimed lazily")
    func lazyReclaimKeepsFrames() throws {
        // Frames of different sizes and contents, so that a byte moved wrongly shows.
        let frames = (0..<24).map { index in
            let count = 100_000 + index * 7_919
            return Frame(kind: .data, flags: [], payload: ByteBuffer(repeating: UInt8(index), count: count))
        }
        var bytes = encoded(frames)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var decoded: [Frame] = []
        while bytes.readableBytes > 0 {
            try channel.writeInbound(bytes.readSlice(length: min(bytes.readableBytes, 16_384))!)
            while let frame = try channel.readInbound(as: Frame.self) { decoded.append(frame) }
        }
        #expect(decoded.map(\.payload) == frames.map(\.payload))
        #expect(try channel.finish().isClean)
    }
}
