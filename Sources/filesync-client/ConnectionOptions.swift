import ArgumentParser
import FileSyncClient
import FileSyncCore
import FileSyncSystem
import Foundation
import Logging

/// The options that say how to reach and authenticate to the server, and how to retry, the same
/// for `backup`, `restore` and `snapshots`: declared once here, taken by each as an `@OptionGroup`.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Use this server, HOST:PORT or HOST (port 7733), instead of discovery.") var server: String?
    @Option(help: "With discovery, use the server of this name.") var serverName: String?
    @Option(
        help:
            "A copy of the server's secret (default: $XDG_CONFIG_HOME/filesync/secret, else filesync/server.secret there)."
    )
    var secretFile: String?
    @Option(help: "This client's own key, created on first use (default: $XDG_CONFIG_HOME/filesync/keys/<id>.key).")
    var keyFile: String?
    @Flag(help: "Accept a server whose TLS fingerprint changed (its key was replaced on purpose) and pin the new one.")
    var acceptNewFingerprint = false
    @Flag(help: "Connect without TLS, to a server run with --no-tls. Not recommended.") var noTls = false
    // Options with a default are optional, so that a profile's value applies when the flag is not given.
    @Option(help: "Reconnection attempts after a lost connection (0: one attempt only). Default: 3.") var retries: Int?
    @Option(help: "Stop retrying after this long since the start, e.g. 10m.") var retryFor: String?
    @Option(help: "First wait before retrying (doubles each time, up to 1m), e.g. 1s or 200ms. Default: 1s.")
    var retryWait: String?
    @Option(help: "Give up on a connection without progress for this long. Default: 5m.") var timeout: String?
    @Option(
        help:
            "Interface used for discovery, its IPv4 address or its name (eth0); queries go over IPv4 and IPv6 (default: first non-loopback multicast interface)."
    )
    var interface: String?
    @Option(help: "Multicast group for discovery, ADDR:PORT. Default: \(Endpoint.defaultGroup).") var group: String?
    @Option(help: "How long discovery listens for answers. Default: 3s.") var discoveryTimeout: String?
    @Flag(name: .shortAndLong, help: "Log progress to standard error.") var verbose = false
    @Option(help: "Log lines on standard error: text (readable) or json (one object per line).")
    var logFormat: LineLogHandler.Format = .text

    func validate() throws {
        guard (retries ?? 0) >= 0 else { throw ValidationError("--retries must be 0 or more") }
    }

    /// The discovery group, `--group` or the default.
    var discoveryGroup: String { group ?? Endpoint.defaultGroup.description }

    /// How long discovery listens, `--discovery-timeout` or the default.
    var discoveryWait: String { discoveryTimeout ?? "3s" }

    /// Logs to standard error: progress with `--verbose`, else warnings only.
    func bootstrapLogging() {
        ClientLines.bootstrap(format: logFormat, level: verbose ? .info : .warning)
    }

    /// The secret file a client reads when not given `--secret-file`: `$XDG_CONFIG_HOME/filesync/secret`,
    /// else `server.secret` there (a server's own, on the same machine); `nil` when neither exists.
    static func defaultSecretFile() -> String? {
        let configBase = XDGPaths().config
        return [configBase + "/secret", configBase + "/server.secret"].first {
            FileManager.default.fileExists(atPath: $0)
        }
    }

    /// The run's options for `clientID`: the server or discovery, the secret and this client's
    /// key (created on first use), TLS, timeouts and retries; the caller sets what its command adds.
    func options(clientID: ClientID, source: String = "") throws -> BackupOptions {
        let configBase = XDGPaths().config
        guard let secretPath = secretFile ?? Self.defaultSecretFile() else {
            throw FileSyncError(
                .invalidSetting,
                "no server secret: give a copy of the server's secret with --secret-file FILE (or put it in \(configBase)/secret)"
            )
        }
        let secret = try KeyFile.load(secretPath, kind: "the secret file")
        let exposed = KeyFile.exposedModeBits(secretPath)
        if exposed != 0 {
            // As ssh does for a private key: anyone who can read the secret can back up as any client.
            ClientCommand.fail(
                "warning: the secret file \(secretPath) is accessible by group or others (permissions "
                    + String(format: "0%03o", exposed) + " beyond its owner's); run: chmod 600 \(secretPath)")
        }
        return try options(clientID: clientID, source: source, secret: secret)
    }

    /// The same with the secret given (`setup` holds it before it is saved anywhere).
    func options(clientID: ClientID, source: String, secret: [UInt8]) throws -> BackupOptions {
        let configBase = XDGPaths().config
        let keyPath = keyFile ?? configBase + "/keys/\(clientID).key"
        let existingKey = FileManager.default.fileExists(atPath: keyPath)
        let clientKey = existingKey ? try KeyFile.load(keyPath) : KeyFile.generate()
        var options = BackupOptions(
            source: source, clientID: clientID, interface: interface ?? MulticastSetup.defaultInterface(),
            authenticator: Authenticator(secret: secret), clientKey: clientKey,
            knownServersPath: configBase + "/known_servers")
        // A new key is written only once a server has accepted it.
        options.clientKeyFileToCreate = existingKey ? nil : keyPath
        options.useTLS = !noTls
        options.acceptNewFingerprint = acceptNewFingerprint
        options.server = try server.map { try Endpoint(parsing: $0, defaultPort: Endpoint.defaultPort) }
        options.serverName = serverName
        options.group = try Endpoint(parsing: discoveryGroup)
        options.discoveryTimeout = .seconds(try DurationParser.seconds(from: discoveryWait))
        options.retries = retries ?? 3
        options.retryFor = try retryFor.map { try DurationParser.duration(from: $0) }
        options.retryWait = try DurationParser.duration(from: retryWait ?? "1s")
        let idle = try DurationParser.duration(from: timeout ?? "5m")
        options.idleTimeout = .nanoseconds(Int64(idle.inSeconds * 1e9))
        return options
    }
}

extension LineLogHandler.Format: ExpressibleByArgument {}
