import FileSyncCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The running server's local control socket, `<root>/.filesync/@server/control.sock` (mode 0600,
/// in a 0700 folder: only the server's user reaches it). A connection gets the status as one JSON
/// document (``ServerStatus``, live state included), then the server closes it. Connections are
/// served one at a time, each within 5 s.
public struct ControlSocket: Service {
    typealias Listener = NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>

    /// The socket's path for the server storing in `root`.
    public static func path(root: String) -> String { SessionLog.folder(root: root) + "/control.sock" }

    private let listener: Listener
    private let operations: ServerOperations
    private let logger: Logger

    /// Binds the socket (replacing one a server that is gone left behind).
    public static func bind(root: String, operations: ServerOperations, logger: Logger) async throws -> ControlSocket {
        let path = path(root: root)
        guard path.utf8.count < 104 else {
            throw FileSyncError(.invalidSetting, "the control socket's path is too long for a socket: \(path)")
        }
        try? FileManager.default.createDirectory(
            atPath: SessionLog.folder(root: root), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return ControlSocket(listener: listener, operations: operations, logger: logger)
    }

    public func run() async throws {
        let (operations, logger) = (operations, logger)
        try await listener.executeThenClose { connections in
            for try await connection in connections.cancelOnGracefulShutdown() {
                do {
                    try await withTimeout(seconds: 5) {
                        try await connection.executeThenClose { _, outbound in
                            let status = try await operations.status()
                            try await outbound.write(ByteBuffer(bytes: try JSONEncoder().encode(status)))
                        }
                    }
                } catch {
                    logger.debug("control connection failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}

/// Runs `body`, cancelling it after `seconds`.
func withTimeout<T: Sendable>(seconds: Int, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw FileSyncError(.timeout, "no answer within \(seconds) s")
        }
        return value
    }
}
