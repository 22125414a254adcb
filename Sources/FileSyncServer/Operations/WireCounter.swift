import NIOCore
import Synchronization

/// Bytes that crossed one connection, counted below TLS (what the network carried).
public final class WireCounter: Sendable {
    private let inbound = Atomic<Int64>(0)
    private let outbound = Atomic<Int64>(0)

    public init() {}

    public var received: Int64 { inbound.load(ordering: .relaxed) }
    public var sent: Int64 { outbound.load(ordering: .relaxed) }

    func add(received count: Int) { inbound.add(Int64(count), ordering: .relaxed) }
    func add(sent count: Int) { outbound.add(Int64(count), ordering: .relaxed) }
}

/// The first handler of a connection's pipeline: counts the raw bytes in both directions.
final class WireCountingHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let counter: WireCounter

    init(counter: WireCounter) { self.counter = counter }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        counter.add(received: unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        counter.add(sent: unwrapOutboundIn(data).readableBytes)
        context.write(data, promise: promise)
    }
}
