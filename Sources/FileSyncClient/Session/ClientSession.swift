import FileSyncCore
import FileSyncSystem
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One connection to a server: connection and TLS (here), then the handshake and queue
/// (`+Handshake`) and either a backup (`+Transfer`, driving a ``SendStateMachine``, with the
/// inbound reader of `+Inbound`) or a history session (`+History`, frames handed to a
/// ``RestoreChannel``).
struct ClientSession {
    let endpoint: Endpoint
    /// The TLS fingerprint the server announced in discovery, if it was found that way.
    let announcedFingerprint: String?
    /// The run's options; a history session reads only the connection and authentication fields.
    let options: BackupOptions
    var scan: SourceScanner.Result
    let counter: WireCounter
    let stats: TransferStats
    let logger: Logger
    /// What the session is for: `HELLO.session` (Protocol.md §11.1).
    var kind: Hello.SessionKind = .backup

    /// What one session achieved.
    struct Outcome {
        /// The manifest entries of the files stored.
        var stored = EntrySet()
        var failed: [String: String] = [:]
        var unchanged = 0
        var bytesSent: Int64 = 0
        var next: NextSync?
        var serverName: String?
        /// The symlinks left out of the manifest for a server without `metadata`.
        var symlinksLeftOut: [String] = []
        /// A dry run's answer: what a backup would do.
        var preview: DryRunReport?
        /// FIFOs, sockets and devices left out for a server without `specials`.
        var specialsLeftOut: [String] = []
        /// Why no deletion was mirrored although asked: the server cannot keep excluded paths.
        var deletionsWithheld: String?
        /// Files stored whose content the server held already (a `delta` that needed no chunk):
        /// their metadata alone changed (a `touch`); not counted in ``bytesSent``.
        var metadataOnly = 0
    }

    /// A backup session.
    func run() async throws -> Outcome {
        try await withConnection { inbound, link, check, knownServers in
            let (events, continuation) = AsyncThrowingStream.makeStream(of: ServerEvent.self)
            let acks = Acknowledgements(trace: AckTrace.fromEnvironment(manifest: scan.entries))
            return try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { await Self.read(inbound, into: continuation, acks: acks) }
                var events = events.makeAsyncIterator()
                let outcome = try await converse(
                    &events, link: link, acks: acks, check: check, knownServers: knownServers)
                tasks.cancelAll()
                return outcome
            }
        }
    }

    /// Connects and runs `conversation` on the open connection, which is closed after it; a
    /// fingerprint refusal or a failed TLS handshake become ``BackupFailure/serverIdentity(_:)``.
    func withConnection<T>(
        _ conversation: (NIOAsyncChannelInboundStream<Frame>, Link, FingerprintCheck, KnownServers) async throws -> T
    ) async throws -> T {
        let knownServers = KnownServers(path: options.knownServersPath)
        let check = FingerprintCheck(
            server: endpoint, announced: announcedFingerprint, pinned: knownServers.fingerprint(for: endpoint),
            acceptNew: options.acceptNewFingerprint, knownServersPath: options.knownServersPath)
        do {
            let connection = try await connect(check: check)
            let channel = connection.channel
            return try await connection.executeThenClose { inbound, outbound in
                try await conversation(inbound, Link(outbound: outbound, channel: channel), check, knownServers)
            }
        } catch {
            if let refusal = check.state.withLock({ $0.refusal }) { throw BackupFailure.serverIdentity(refusal) }
            if let tlsError = error as? NIOSSLError {
                guard check.state.withLock({ $0.serverSpoke }) else {
                    throw BackupFailure.serverIdentity(
                        "TLS with the server at \(endpoint) failed (\(tlsError)): it may be running without TLS (--no-tls)"
                    )
                }
                throw FileSyncError(.connectionClosed, "the TLS connection was lost: \(tlsError)")
            }
            throw error
        }
    }

    /// TLS 1.3; the certificate chain and name are not checked by a CA but by the pinned fingerprint.
    static var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.certificateVerification = .noHostnameVerification
        // No certificate authority is consulted, so the system's bundle need not be read and parsed
        // (about 140 certificates, some milliseconds at every start).
        configuration.trustRoots = .certificates([])
        return configuration
    }

    /// The connection's write side and what the conversation needs of it.
    struct Link {
        let outbound: NIOAsyncChannelOutboundWriter<Frame>
        let channel: any Channel
        let control = ControlMessageEncoder()

        /// Writes one control message at once.
        func write(_ message: Message) async throws {
            try await outbound.write(control.frame(message))
        }
    }

    /// Connects, with TLS checked against the pinned fingerprint, framing and the idle timeout.
    private func connect(check: FingerprintCheck) async throws -> NIOAsyncChannel<Frame, Frame> {
        let counter = self.counter
        let idle = options.idleTimeout
        let logger = self.logger
        let tls = try options.useTLS ? NIOSSLContext(configuration: Self.tlsConfiguration) : nil
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            // A bounded send buffer bounds what a cut connection loses and must resend
            // (Protocol.md §5.6); autotuning would let it grow to 4 MiB for no gain on a LAN.
            .channelOption(.socketOption(.so_sndbuf), value: SocketBuffers.sendBytes)
            // Reads of at most 256 KiB, two per turn of the event loop, as the server's (BackupServer):
            // TLS decrypts a turn's reads into one buffer, which it copies whole, at its largest
            // size, whenever a frame sliced from it (one whole in a read) still uses it; larger
            // reads only made those copies larger.
            .channelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16384, maximum: 256 << 10)
            )
            .channelOption(.maxMessagesPerRead, value: 2)
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    // First, below TLS: the bytes counted are those the network carried.
                    try pipeline.addHandler(WireCountingHandler(counter: counter))
                    if let tls {
                        // The server's certificate is self-signed: it is checked by its pinned fingerprint.
                        let handler = try NIOSSLClientHandler(context: tls, serverHostname: nil) {
                            certificates, promise in
                            let der = (try? certificates.first?.toDERBytes()) ?? []
                            promise.succeed(check.verify(certificateDER: der) ? .certificateVerified : .failed)
                        }
                        try pipeline.addHandler(handler)
                    }
                    let timeout = IdleTimeoutHandler(timeout: idle, countsWrites: true) { amount in
                        logger.warning(
                            "no progress; closing the connection",
                            metadata: ["seconds": "\(amount.nanoseconds / 1_000_000_000)"])
                    }
                    // Page-aligned frames: a restored large file goes to the disk from them (DirectWriter).
                    try pipeline.addHandler(FrameAssembler(payloadAllocator: .pageAligned))
                    try pipeline.addHandler(FrameEncoder())
                    try pipeline.addHandler(timeout)
                    // Frames of up to 1 MiB each hold a buffer of their size (or pin their read's):
                    // a restore that writes more slowly than the server sends holds at most a few
                    // of them, not NIO's default ten.
                    let configuration = NIOAsyncChannel<Frame, Frame>.Configuration(
                        backPressureStrategy: .init(lowWatermark: 2, highWatermark: 4))
                    return try NIOAsyncChannel<Frame, Frame>(
                        wrappingChannelSynchronously: channel, configuration: configuration)
                }
            }
    }
}
