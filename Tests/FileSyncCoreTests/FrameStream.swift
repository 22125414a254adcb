import FileSyncCore
import NIOCore
import NIOEmbedded

/// Frames as the bytes of a stream, and back through a connection's frame handler: what the frame
/// decoder's and the frame assembler's tests share.
enum FrameStream {
    /// `frames` written one after another, headers and payloads.
    static func encoded(_ frames: [Frame]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for frame in frames { buffer.writeFrame(frame) }
        return buffer
    }

    /// The frames `handler` cuts from `reads`, handed to it in order; the end of the stream after
    /// them (a frame cut short there throws).
    static func frames(through handler: any ChannelHandler, reads: [ByteBuffer]) throws -> [Frame] {
        let channel = EmbeddedChannel(handler: handler)
        var frames: [Frame] = []
        for read in reads {
            try channel.writeInbound(read)
            while let frame = try channel.readInbound(as: Frame.self) { frames.append(frame) }
        }
        _ = try channel.finish()
        return frames
    }
}
