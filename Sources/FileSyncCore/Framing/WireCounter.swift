import NIOCore
import Synchronization

/// Bytes that crossed a connection, counted below TLS (what the network carried); the client
/// shares one across the retries of a run.
public final class WireCounter: Sendable {
    private let inbound = Atomic<Int64>(0)
    private let outbound = Atomic<Int64>(0)

    public init() {}

    public var received: Int64 { inbound.load(ordering: .relaxed) }
    public var sent: Int64 { outbound.load(ordering: .relaxed) }
    /// Both directions.
    public var bytes: Int64 { received + sent }

    package func add(received count: Int) { inbound.add(Int64(count), ordering: .relaxed) }
    package func add(sent count: Int) { outbound.add(Int64(count), ordering: .relaxed) }
}

/// The first handler of a connection's pipeline: counts the raw bytes in both directions.
public final class WireCountingHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    let counter: WireCounter

    public init(counter: WireCounter) { self.counter = counter }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        counter.add(received: unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        counter.add(sent: unwrapOutboundIn(data).readableBytes)
        context.write(data, promise: promise)
    }
}
