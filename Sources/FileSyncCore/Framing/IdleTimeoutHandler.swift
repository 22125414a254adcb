import NIOCore

/// Closes the connection when it has been idle for the current timeout.
///
/// Placed after the ``FrameAssembler``, idle means no complete frame was read (and, with
/// `countsWrites`, none written either): a peer trickling a frame a byte at a time is idle. A session changes
/// the timeout as it moves through its phases by sending a ``SetTimeout`` user outbound event:
/// short for the handshake, none while the server keeps a queued client waiting, longer while active.
public final class IdleTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = Frame
    public typealias InboundOut = Frame
    public typealias OutboundIn = Frame
    public typealias OutboundOut = Frame

    /// The user outbound event that sets (or with `nil`, suspends) the timeout.
    public struct SetTimeout: Sendable {
        public var timeout: TimeAmount?
        public init(_ timeout: TimeAmount?) { self.timeout = timeout }
    }

    private var timeout: TimeAmount?
    private var lastRead = NIODeadline.now()
    private var scheduled: Scheduled<Void>?
    /// Called once, just before the connection is closed for being idle.
    private let onTimeout: @Sendable (TimeAmount) -> Void

    private let countsWrites: Bool

    public init(timeout: TimeAmount?, countsWrites: Bool = false, onTimeout: @escaping @Sendable (TimeAmount) -> Void) {
        self.timeout = timeout
        self.countsWrites = countsWrites
        self.onTimeout = onTimeout
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if countsWrites { lastRead = .now() }
        context.write(data, promise: promise)
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        lastRead = .now()
        arm(context: context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        scheduled?.cancel()
        scheduled = nil
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        scheduled?.cancel()
        scheduled = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        context.fireChannelRead(data)
    }

    public func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let change = event as? SetTimeout else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        timeout = change.timeout
        lastRead = .now()
        arm(context: context)
        promise?.succeed()
    }

    private func arm(context: ChannelHandlerContext) {
        scheduled?.cancel()
        scheduled = nil
        guard let timeout else { return }
        let deadline = lastRead + timeout
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        scheduled = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.fire(context: context)
        }
    }

    private func fire(context: ChannelHandlerContext) {
        scheduled = nil
        guard let timeout else { return }
        if NIODeadline.now() - lastRead >= timeout {
            onTimeout(timeout)
            context.close(promise: nil)
        } else {
            arm(context: context)
        }
    }
}
