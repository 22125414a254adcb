import FileSyncCore
import FileSyncSystem
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The TCP backup service, a `Service` for a `ServiceGroup`: accepts connections and runs one
/// ``BackupSession`` for each, after the interrupted patches are completed.
///
/// On graceful shutdown it stops accepting, tells the queued clients to come back later (`ERROR
/// queueFull`, which clients retry), and lets the active session commit what it verified before it
/// ends; cancellation (the group's deadline) ends what is left.
public struct BackupServer: Service {
    typealias Listener = NIOAsyncChannel<AcceptedConnection, Never>

    /// A connection, and the counter of its bytes.
    struct AcceptedConnection: Sendable {
        let channel: NIOAsyncChannel<Frame, Frame>
        let wire: WireCounter
    }

    public let settings: ServerSettings
    public let logger: Logger
    /// The address the service is bound to.
    public let address: SocketAddress
    private let listener: Listener
    private let recovery: PatchRecovery
    private let queue: SessionQueue
    private let commitPolicy: CommitPolicy
    /// The session history and the live state.
    private let operations: ServerOperations
    /// Called once the service is ready: interrupted patches completed, connections accepted.
    private let onReady: @Sendable (SocketAddress) -> Void

    /// Binds the service; it accepts connections once ``run()`` is called and `recovery` is done,
    /// and then calls `onReady`.
    public static func bind(
        settings: ServerSettings, recovery: PatchRecovery, operations: ServerOperations, logger: Logger,
        onReady: @escaping @Sendable (SocketAddress) -> Void
    ) async throws -> BackupServer {
        let listener = try await Self.listen(settings: settings, logger: logger)
        guard let address = listener.channel.localAddress, address.port != nil else {
            throw FileSyncError(.internalError, "the listening socket has no address")
        }
        // A process-wide change, made once: every session holds unnamed files within this limit.
        let limit = CommitPolicy.raiseOpenFileLimit()
        let hard = limit.hard == Int.max ? "unlimited" : "\(limit.hard)"
        // The e2e tests read this line.
        logger.info("open-file limit: \(limit.current) (hard limit \(hard); it was \(limit.before))")
        let commitPolicy = CommitPolicy(settings: settings, openFiles: limit.current)
        return BackupServer(
            settings: settings, logger: logger, address: address, listener: listener, recovery: recovery,
            queue: SessionQueue(maxWaiting: settings.maxWaitingClients), commitPolicy: commitPolicy,
            operations: operations, onReady: onReady)
    }

    /// Serves until graceful shutdown or cancellation.
    public func run() async throws {
        await recovery.finished()
        onReady(address)
        let (settings, logger, queue, commitPolicy, operations) = (settings, logger, queue, commitPolicy, operations)
        try await withThrowingDiscardingTaskGroup { tasks in
            try await listener.executeThenClose { connections in
                // Graceful shutdown ends the loop, and leaving it closes the listener.
                for try await connection in connections.cancelOnGracefulShutdown() {
                    // Sessions do their blocking storage calls on the storage threads.
                    tasks.addTask(executorPreference: StorageExecutor.shared) {
                        await BackupSession(
                            connection: connection.channel, settings: settings, queue: queue, logger: logger,
                            commitPolicy: commitPolicy, operations: operations, wire: connection.wire
                        ).run()
                    }
                }
            }
            if Task.isShuttingDownGracefully { logger.notice("stopped accepting connections") }
        }
    }

    private static func listen(settings: ServerSettings, logger: Logger) async throws -> Listener {
        let tls = try settings.identity.map { try NIOSSLContext(configuration: $0.tlsConfiguration()) }
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            // Set on the listener so that every connection has it from its first byte: a bounded
            // receive buffer bounds what a cut connection loses (Protocol.md §5.6), where
            // autotuning would let it grow to tens of MiB behind a busy disk.
            .serverChannelOption(.socketOption(.so_rcvbuf), value: SocketBuffers.receiveBytes)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Reads of at most 256 KiB, two per turn of the event loop, and at most 3 frames queued
            // for the session: TLS decrypts a whole turn's reads into one buffer, and every frame
            // still queued that lay whole in one read is a slice keeping that buffer alive (the
            // others have buffers of their own size), so larger values let a fast client push the
            // server's memory up by tens of MiB for no gain in speed.
            .childChannelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 65536, maximum: 256 << 10)
            )
            .childChannelOption(.maxMessagesPerRead, value: 2)
            .bind(host: settings.listenHost, port: settings.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let wire = WireCounter()
                    try channel.pipeline.syncOperations.addHandler(WireCountingHandler(counter: wire))
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    let timeout = IdleTimeoutHandler(timeout: settings.handshakeTimeout) { amount in
                        let seconds = amount.nanoseconds / 1_000_000_000
                        logger.warning("closing a silent connection", metadata: ["silent": "\(seconds) s"])
                    }
                    // Page-aligned frames: a large file's data goes to the disk from them (DirectWriter).
                    try channel.pipeline.syncOperations.addHandler(FrameAssembler(payloadAllocator: .pageAligned))
                    try channel.pipeline.syncOperations.addHandler(FrameEncoder())
                    // After the assembler: only complete frames count as activity (no slowloris).
                    try channel.pipeline.syncOperations.addHandler(timeout)
                    let connection = try NIOAsyncChannel<Frame, Frame>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 1, highWatermark: 3)))
                    return AcceptedConnection(channel: connection, wire: wire)
                }
            }
    }
}
