import FileSyncCore
import Foundation
import NIOCore
import NIOPosix

/// Asks a running server for its status through its control socket (``ControlSocket``).
public enum ControlClient {
    /// The status from the server storing in `root`; `nil` when no server answers there (no socket,
    /// or nobody listening on it).
    public static func fetch(root: String) async throws -> ServerStatus? {
        let path = ControlSocket.path(root: root)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            return nil
        }
        let data = try await withTimeout(seconds: 10) {
            try await channel.executeThenClose { inbound, _ in
                var received = ByteBuffer()
                for try await part in inbound {
                    received.writeImmutableBuffer(part)
                    guard received.readableBytes <= 64 << 20 else {
                        throw FileSyncError(.limitExceeded, "the server's status exceeds 64 MiB")
                    }
                }
                return Data(received.readableBytesView)
            }
        }
        do {
            return try JSONDecoder().decode(ServerStatus.self, from: data)
        } catch {
            throw FileSyncError(.malformedMessage, "the server's status is not readable: \(error)")
        }
    }
}
