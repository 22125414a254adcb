import Logging
import ServiceLifecycle

/// Discovery as a `Service`: answers and announces until graceful shutdown. A failure stops
/// discovery only (clients can still connect with `--server HOST:PORT`), never the server.
public struct DiscoveryService: Service {
    private let responder: DiscoveryResponder

    public init(settings: ServerSettings, tcpPort: Int, logger: Logger) {
        responder = DiscoveryResponder(settings: settings, tcpPort: tcpPort, logger: logger)
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { [responder] in try await responder.run() }
        } catch is CancellationError {
        } catch {
            responder.logger.error(
                "discovery stopped; clients can still use --server HOST:PORT", metadata: ["error": "\(error)"])
        }
    }
}
