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

    @Option(help: "Address the TCP service listens on (default: the saved setting, else 0.0.0.0).") var listen: String?
    @Option(
        help: """
            Interface used for discovery: its IPv4 address, or its name (eth0), or off; discovery answers on \
            IPv4 and on IPv6 (ff02::7733) where it has addresses (default: the saved setting, else the first \
            non-loopback multicast interface).
            """)
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
    @Option(help: "Log lines on standard error: text (readable) or json (one object per line).")
    var logFormat: LineLogHandler.Format = .text
    @Flag(help: "Keep only the latest tree: record no snapshots and keep no old versions.") var noHistory = false
    @Flag(help: "As root: give stored entries the clients' numeric owners (uid, gid). Off: the server's own.")
    var applyOwners = false
    @OptionGroup(title: "Retention (applied after each backup of a client)") var retention: RetentionOptions
    @Option(help: "How long the session history keeps a session (pruned automatically).") var keepSessions = "365d"
    @Option(help: "A client whose last success is older than this is stale (status, the status page).")
    var stale = "26h"
    @Option(parsing: .upToNextOption, help: "Client ids expected to back up: shown as 'never' until they do.")
    var expect: [String] = []
    @Option(help: "Serve the status page, /api/status and /metrics on ADDR:PORT (read-only); 'off' disables.")
    var http = StatusHTTPService.defaultAddress

    func run() async throws {
        LineLogHandler.bootstrap(format: logFormat, level: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "filesync-server")
        do {
            let settings = try resolveSettings(logger: logger)
            let recovery = PatchRecovery(root: settings.root, logger: logger)
            let operations = try makeOperations(settings: settings, logger: logger)
            // So that `prune` run by hand applies this server's policy, flags and config file included.
            var served = retention.overrides
            served.config = URL(fileURLWithPath: config ?? SavedSettings.defaultPath).standardizedFileURL.path
            try served.record(root: settings.root)
            let announced = Latch()
            // Announced once interrupted patches are completed and connections are accepted.
            let server = try await BackupServer.bind(
                settings: settings, recovery: recovery, operations: operations, logger: logger
            ) {
                address in
                Self.announce(
                    host: address.ipAddress ?? settings.listenHost, port: address.port ?? settings.port,
                    settings: settings)
                Task { await announced.open() }
            }
            let control = await Self.bindControlSocket(settings: settings, operations: operations, logger: logger)
            let web = try makeHTTPService(operations: operations, announced: announced, logger: logger)
            try await Self.serve(
                server, recovery: recovery, extra: [control as (any Service)?, web].compactMap { $0 },
                settings: settings, logger: logger)
        } catch let error as FileSyncError where error.code == .invalidSetting {
            logger.error("\(error.message)")
            throw ExitCode(64)
        } catch let error as FileSyncError {
            logger.error("\(error.message)")
            throw ExitCode.failure
        }
    }

    /// The groups discovery answers on: IPv4 and IPv6, as the interface has addresses of each.
    private static func discoveryGroups(_ settings: ServerSettings) -> String {
        let interface = settings.multicastInterface
        var groups: [String] = []
        let families = settings.discoveryFamilies
        if families.ipv4 && MulticastSetup.ipv4Address(forInterface: interface) != nil {
            groups.append("\(settings.group)")
        }
        if families.ipv6 && MulticastSetup.ipv6Device(forInterface: interface) != nil {
            groups.append("\(Endpoint(host: Endpoint.defaultGroup6.host, port: settings.group.port))")
        }
        return groups.isEmpty
            ? "none: no client there could reach \(settings.listenHost)" : groups.joined(separator: ", ")
    }

    /// Prints where the server listens, where discovery answers, and its TLS fingerprint.
    private static func announce(host: String, port: Int, settings: ServerSettings) {
        let discovery =
            settings.discoveryEnabled
            ? "discovery on interface \(settings.multicastInterface) (group \(discoveryGroups(settings)))"
            : "discovery off"
        print(
            "filesync-server \"\(settings.name)\" listening on \(Endpoint(host: host, port: port)), "
                + "storing in \(settings.root), clients back up every \(DurationParser.format(settings.intervalSeconds)); "
                + discovery)
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
        _ server: BackupServer, recovery: PatchRecovery, extra: [any Service], settings: ServerSettings, logger: Logger
    ) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: recovery, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore),
            .init(service: server, successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        // The operational services (control socket, status page) never stop the backups.
        for service in extra {
            services.append(
                .init(service: service, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
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
