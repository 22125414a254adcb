import ArgumentParser
import FileSyncCore
import FileSyncServer
import FileSyncSystem
import Foundation
import Logging
import ServiceLifecycle

/// `filesync-server serve`, the default subcommand: runs the server.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Receive backups from filesync clients on the local network (the default subcommand).",
        discussion: """
            The first start on a terminal asks for the settings and saves them; later starts reuse them.
            Flags override the saved settings. Without a terminal, missing settings are an error.

            Exit codes: 0 stopped normally, 64 usage or configuration error, 1 runtime failure.
            """)

    @Option(help: "Storage folder; each client's files go to <root>/<client-id>/.") var root: String?
    @Option(help: "TCP port for backups (0: any free port).") var port: Int?
    @Option(help: "Time clients wait between backups: 90s, 15m, 1h, 1d.") var interval: String?
    @Option(help: "Server name shown in discovery.") var name: String?
    @Option(help: "Config file (default: $XDG_CONFIG_HOME/filesync/server.json).") var config: String?
    @Flag(help: "Ask the setup questions again even if settings are saved.") var setup = false
    @Option(help: "The shared secret clients must prove (default: server.secret beside the config file).")
    var secretFile: String?

    @Option(help: "Address the TCP service listens on.") var listen = "0.0.0.0"
    @Option(help: "IPv4 address of the interface used for discovery (default: first non-loopback multicast interface).")
    var interface: String?
    @Option(help: "Multicast group for discovery, ADDR:PORT.") var group = Endpoint.defaultGroup.description
    @Flag(help: "Do not answer discovery or announce; clients must use --server.") var noDiscovery = false
    @Flag(help: "Serve without TLS (clients must then use --no-tls too). Not recommended.") var noTls = false
    @Option(help: "Drop an active client that completes no frame for this long.") var idleTimeout = "60s"
    @Option(help: "Drop a connection that has not completed HELLO within this long.") var handshakeTimeout = "10s"
    @Option(help: "Clients that may wait in the queue at once.") var maxQueue = 1_000
    @Option(help: "Delete partial files (of interrupted transfers) older than this instead of resuming them.")
    var partialExpiry = "7d"
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"
    @Flag(help: "Keep only the latest tree: record no snapshots and keep no old versions.") var noHistory = false
    @Flag(help: "As root: give stored entries the clients' numeric owners (uid, gid). Off: the server's own.")
    var applyOwners = false
    @OptionGroup(title: "Retention (applied after each backup of a client)") var retention: RetentionOptions

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "filesync-server")
        do {
            let settings = try resolveSettings()
            let recovery = PatchRecovery(root: settings.root, logger: logger)
            // Announced once interrupted patches are completed and connections are accepted.
            let server = try await BackupServer.bind(settings: settings, recovery: recovery, logger: logger) {
                address in
                Self.announce(
                    host: address.ipAddress ?? settings.listenHost, port: address.port ?? settings.port,
                    settings: settings)
            }
            try await Self.serve(server, recovery: recovery, settings: settings, logger: logger)
        } catch let error as FileSyncError where error.code == .invalidSetting {
            FileHandle.standardError.write(Data("filesync-server: \(error.message)\n".utf8))
            throw ExitCode(64)
        } catch let error as FileSyncError {
            FileHandle.standardError.write(Data("filesync-server: \(error.message)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// Prints where the server listens, and its TLS fingerprint.
    private static func announce(host: String, port: Int, settings: ServerSettings) {
        print(
            "filesync-server \"\(settings.name)\" listening on \(host):\(port), "
                + "storing in \(settings.root), clients back up every \(DurationParser.format(settings.intervalSeconds))"
        )
        if let identity = settings.identity {
            print("TLS certificate fingerprint (SHA-256): \(identity.fingerprint)")
        } else {
            print("TLS is off (--no-tls): backups cross the network in the clear")
        }
        print("server id: \(settings.serverId)")
        fflush(nil)
    }

    /// Runs the services until SIGTERM or SIGINT: then a graceful phase (no new connections, queued
    /// clients sent away, the active session commits what it verified and keeps its partial) of at
    /// most 4 s, then cancellation of what is left, so the server is gone within about 5 s.
    private static func serve(
        _ server: BackupServer, recovery: PatchRecovery, settings: ServerSettings, logger: Logger
    ) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: recovery, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore),
            .init(service: server, successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if settings.discoveryEnabled, let port = server.address.port {
            let discovery = DiscoveryService(settings: settings, tcpPort: port, logger: logger)
            services.append(.init(service: discovery, successTerminationBehavior: .ignore))
        }
        var configuration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(4)
        configuration.maximumCancellationDuration = .seconds(1)
        try await ServiceGroup(configuration: configuration).run()
    }
}
