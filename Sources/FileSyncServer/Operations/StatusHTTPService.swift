import FileSyncCore
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The read-only HTTP side (`--http`): `/` the status page, `/api/status` the status as JSON (as
/// `status --json`), `/metrics` for Prometheus. It runs on an event loop of its own and reads on
/// a thread of its own (``ServerOperations``), so a slow or hostile HTTP client cannot take time
/// from a backup; at most 16 connections at once, 10 s idle timeout, 16 KiB of headers, no body read.
public struct StatusHTTPService: Service {
    /// The default address: loopback only.
    public static let defaultAddress = "127.0.0.1:7734"
    /// Its own event loop: the backups' loops never serve HTTP.
    private static let eventLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    private let application: Application<RouterResponder<BasicRequestContext>>
    private let logger: Logger

    /// A service listening on `host`:`port`; `onRunning` gets the bound port once it listens.
    public init(
        host: String, port: Int, operations: ServerOperations, logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void
    ) {
        self.logger = logger
        let router = Router()
        router.get("/") { _, _ -> Response in
            let status = try await operations.status()
            var charts: [String: [SessionRecord]] = [:]
            for client in status.clients {
                charts[client.id] = try await operations.recentBackups(of: client.id, days: 30)
            }
            return Self.response(StatusPage.html(status, charts: charts), type: "text/html; charset=utf-8")
        }
        router.get("/api/status") { _, _ -> Response in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let json = String(decoding: try encoder.encode(try await operations.status()), as: UTF8.self)
            return Self.response(json, type: "application/json")
        }
        router.get("/metrics") { _, _ -> Response in
            Self.response(
                MetricsExporter.text(try await operations.status()), type: "text/plain; version=0.0.4; charset=utf-8")
        }
        var http = HTTP1Channel.Configuration(idleTimeout: .seconds(10))
        http.httpDecoder = .init(maxHeaderFieldSize: 8 << 10, maxHeaderListSize: 16 << 10, maxHeaderFieldCount: 64)
        application = Application(
            router: router, server: .http1(configuration: http),
            configuration: .init(
                address: .hostname(host, port: port), serverName: nil, backlog: 16,
                availableConnectionsDelegate: MaximumAvailableConnections(16)),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            eventLoopGroupProvider: .shared(Self.eventLoop), logger: logger)
    }

    /// Serves until shutdown; a failure (the port taken, say) is logged and never stops the backups.
    public func run() async throws {
        do {
            try await application.run()
        } catch {
            logger.error("the status page and metrics are unavailable", metadata: ["error": "\(error)"])
        }
    }

    private static func response(_ text: String, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
