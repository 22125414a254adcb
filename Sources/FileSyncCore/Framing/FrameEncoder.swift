import NIOCore

/// Writes ``Frame``s as a 6-byte header followed by the payload, without copying the payload.
public final class FrameEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = Frame
    public typealias OutboundOut = ByteBuffer

    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        var header = context.channel.allocator.buffer(capacity: Frame.headerSize)
        header.writeFrameHeader(for: frame)
        context.write(wrapOutboundOut(header), promise: nil)
        context.write(wrapOutboundOut(frame.payload), promise: promise)
    }
}

extension ByteBuffer {
    /// Writes the 6-byte header of `frame`: length, kind, flags.
    public mutating func writeFrameHeader(for frame: Frame) {
        writeInteger(UInt32(frame.payload.readableBytes + Frame.headerBytesAfterLength))
        writeInteger(frame.kind.rawValue)
        writeInteger(frame.flags.rawValue)
    }

    /// Writes `frame` whole: header and payload.
    public mutating func writeFrame(_ frame: Frame) {
        writeFrameHeader(for: frame)
        writeImmutableBuffer(frame.payload)
    }
}
