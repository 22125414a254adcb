import NIOCore
import Synchronization

/// Counts the bytes a connection reads and writes; shared across the retries of one run.
public final class ByteCounter: Sendable {
    private let total = Mutex<Int64>(0)

    public init() {}

    public var bytes: Int64 { total.withLock { $0 } }

    func add(_ count: Int) { total.withLock { $0 += Int64(count) } }

    /// A handler that adds everything passing through the channel to `counter`.
    final class Handler: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        typealias OutboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let counter: ByteCounter

        init(counter: ByteCounter) { self.counter = counter }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            counter.add(unwrapInboundIn(data).readableBytes)
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            counter.add(unwrapOutboundIn(data).readableBytes)
            context.write(data, promise: promise)
        }
    }
}
