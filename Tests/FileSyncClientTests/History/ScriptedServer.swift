import FileSyncCore
import NIOCore
import NIOPosix

@testable import FileSyncClient

/// A server on loopback (no TLS) that plays a script per connection, in order: enough of the
/// protocol (HELLO, CHALLENGE with the right proof, AUTH) to test the client's history sessions.
struct ScriptedServer {
    typealias Connection = NIOAsyncChannel<Frame, Frame>
    /// One connection's part after the handshake: the frames in, the writer out, the HELLO received.
    typealias Script =
        @Sendable (
            inout NIOAsyncChannelInboundStream<Frame>.AsyncIterator, NIOAsyncChannelOutboundWriter<Frame>, Hello
        ) async throws -> Void

    static let secret = [UInt8](repeating: 7, count: 32)
    let listener: NIOAsyncChannel<Connection, Never>
    let endpoint: Endpoint

    static func start() async throws -> ScriptedServer {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(FrameEncoder())
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        let port = listener.channel.localAddress?.port ?? 0
        return ScriptedServer(listener: listener, endpoint: try Endpoint(parsing: "127.0.0.1:\(port)"))
    }

    /// Serves one connection per script, then closes the listener; returns the HELLOs received.
    func serve(_ scripts: [Script]) async throws -> [Hello] {
        try await listener.executeThenClose { connections in
            var hellos: [Hello] = []
            var iterator = connections.makeAsyncIterator()
            for script in scripts {
                guard let connection = try await iterator.next() else { break }
                try await connection.executeThenClose { inbound, outbound in
                    var frames = inbound.makeAsyncIterator()
                    let hello = try await Self.handshake(&frames, outbound)
                    hellos.append(hello)
                    try await script(&frames, outbound, hello)
                }
            }
            return hellos
        }
    }

    /// The client options for this server: no TLS, one retry after a millisecond.
    func options(in folder: String) -> BackupOptions {
        var options = BackupOptions(
            source: "", clientID: try! ClientID(validating: "laptop"), interface: "127.0.0.1",
            authenticator: Authenticator(secret: Self.secret), clientKey: [UInt8](repeating: 9, count: 32),
            knownServersPath: folder + "/known_servers")
        options.server = endpoint
        options.useTLS = false
        options.retries = 1
        options.retryWait = .milliseconds(1)
        return options
    }

    static func handshake(
        _ frames: inout NIOAsyncChannelInboundStream<Frame>.AsyncIterator,
        _ outbound: NIOAsyncChannelOutboundWriter<Frame>
    ) async throws -> Hello {
        guard case .hello(let hello) = try await read(&frames) else { throw FileSyncError(.unexpectedMessage, "HELLO") }
        let nonce = Authenticator.nonce()
        let proof = Authenticator(secret: secret).serverProof(
            clientNonce: hello.clientNonce ?? "", serverNonce: nonce, clientID: hello.clientId)
        try await write(.challenge(Challenge(serverNonce: nonce, serverProof: proof)), to: outbound)
        guard case .auth = try await read(&frames) else { throw FileSyncError(.unexpectedMessage, "AUTH") }
        return hello
    }

    /// `READY` with the capabilities both sides know of those offered, less `without`.
    static func ready(_ hello: Hello, without: [String] = []) -> Message {
        let capabilities = hello.capabilities.filter { !without.contains($0) }
        return .ready(Ready(version: 1, serverId: "test", serverName: "scripted", capabilities: capabilities))
    }

    static func read(_ frames: inout NIOAsyncChannelInboundStream<Frame>.AsyncIterator) async throws -> Message? {
        guard let frame = try await frames.next() else { return nil }
        return try MessageDecoder().decode(frame)
    }

    static func write(_ message: Message, to outbound: NIOAsyncChannelOutboundWriter<Frame>) async throws {
        try await outbound.write(ControlMessageEncoder().frame(message))
    }
}
