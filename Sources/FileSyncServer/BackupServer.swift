import FileSyncCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// The long-running server: the TCP backup service plus discovery, until cancelled.
public struct BackupServer: Sendable {
    public let settings: ServerSettings
    public let logger: Logger

    public init(settings: ServerSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Binds, reports the bound address through `onListening`, and serves until cancelled.
    public func run(onListening: @Sendable (SocketAddress) -> Void = { _ in }) async throws {
        InPlacePatch.recoverAll(root: settings.root, logger: logger)
        let group = MultiThreadedEventLoopGroup.singleton
        let queue = SessionQueue(maxWaiting: settings.maxWaitingClients)
        let settings = settings
        let logger = logger
        let tls = try settings.identity.map { try NIOSSLContext(configuration: $0.tlsConfiguration()) }
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Reads of at most 256 KiB, two per turn of the event loop, and at most 3 frames queued
            // for the session: TLS decrypts a whole turn's reads into one buffer, and every frame
            // still queued keeps its part of the decoder's buffer alive, so larger values let a
            // fast client push the server's memory up by tens of MiB for no gain in speed.
            .childChannelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 65536, maximum: 256 << 10)
            )
            .childChannelOption(.maxMessagesPerRead, value: 2)
            .bind(host: settings.listenHost, port: settings.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    let timeout = IdleTimeoutHandler(timeout: settings.handshakeTimeout) { amount in
                        logger.warning("closing a connection silent for \(amount.nanoseconds / 1_000_000_000) s")
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(FrameEncoder())
                    // After the decoder: only complete frames count as activity (no slowloris).
                    try channel.pipeline.syncOperations.addHandler(timeout)
                    return try NIOAsyncChannel<Frame, Frame>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 1, highWatermark: 3)))
                }
            }
        guard let address = listener.channel.localAddress, let port = address.port else {
            throw FileSyncError(.internalError, "the listening socket has no address")
        }
        onListening(address)

        try await withThrowingDiscardingTaskGroup { tasks in
            if settings.discoveryEnabled {
                tasks.addTask {
                    let responder = DiscoveryResponder(settings: settings, tcpPort: port, logger: logger)
                    do {
                        try await responder.run()
                    } catch is CancellationError {
                    } catch {
                        logger.error("discovery stopped: \(error); clients can still use --server HOST:PORT")
                    }
                }
            }
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    tasks.addTask {
                        await BackupSession(connection: connection, settings: settings, queue: queue, logger: logger)
                            .run()
                    }
                }
            }
        }
    }
}
