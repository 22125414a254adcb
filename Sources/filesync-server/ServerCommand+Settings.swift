import FileSyncCore
import FileSyncServer
import FileSyncSystem
import Foundation
import Logging

extension ServerCommand {
    /// The settings from the flags, the saved config and, on a terminal, the setup questions.
    func resolveSettings(logger: Logger) throws -> ServerSettings {
        let configPath = config ?? SavedSettings.defaultPath
        var saved = try SavedSettings.load(from: configPath) ?? SavedSettings()
        var merged = overriding(saved)

        let missing = [
            merged.root == nil ? "--root" : nil, merged.port == nil ? "--port" : nil,
            merged.interval == nil ? "--interval" : nil, merged.name == nil ? "--name" : nil,
        ].compactMap { $0 }
        let stateFolder = URL(fileURLWithPath: configPath).deletingLastPathComponent().path
        let secretPath = secretFile ?? (stateFolder + "/server.secret")
        var interactive = false
        if !missing.isEmpty || setup {
            guard isatty(STDIN_FILENO) == 1 else {
                throw FileSyncError(
                    .invalidSetting,
                    "missing settings: \(missing.joined(separator: ", ")). No terminal to ask on: give them as flags, "
                        + "or run filesync-server once on a terminal to save them (config: \(configPath)).")
            }
            interactive = true
            var wizard = SetupWizard()
            wizard.defaultInterface = { MulticastSetup.defaultInterface() }
            saved = try wizard.ask(current: merged)
            if saved.serverId == nil { saved.serverId = try ServerIDFile.loadOrCreate(in: stateFolder) }
            try saved.save(to: configPath)
            print("Settings saved to \(configPath). Edit it, run with --setup, or override with flags.")
            merged = saved
        }

        let secret = try Self.loadSecret(at: secretPath, interactive: interactive, logger: logger)

        var settings = ServerSettings(
            root: try SettingValidation.root(merged.root!),
            port: try SettingValidation.port(String(merged.port!)),
            intervalSeconds: try SettingValidation.interval(merged.interval!),
            name: try SettingValidation.name(merged.name!),
            // A config file's id (written by setup) wins; otherwise the one kept beside the TLS key.
            serverId: try merged.serverId ?? ServerIDFile.loadOrCreate(in: stateFolder),
            multicastInterface: merged.interface.flatMap { $0 == "off" ? nil : $0 }
                ?? MulticastSetup.defaultInterface(),
            authenticator: Authenticator(secret: secret))
        (settings.history, settings.applyOwners) = (!noHistory, applyOwners)
        settings.retention = retention.policy(
            over: try merged.retention.map(RetentionPolicy.init(counts:)) ?? .defaults)
        if !noTls {
            let (identity, created) = try ServerIdentity.loadOrCreate(in: stateFolder, name: settings.name)
            settings.identity = identity
            if created {
                logger.notice("created a TLS key and certificate in \(stateFolder) (server-tls.key, server-tls.crt)")
            }
        }
        settings.listenHost = try SettingValidation.listenAddress(merged.listen ?? "0.0.0.0")
        settings.group = try Endpoint(parsing: group)
        settings.discoveryEnabled = !noDiscovery && merged.interface != "off"
        settings.idleTimeout = .seconds(Int64(try DurationParser.seconds(from: idleTimeout)))
        settings.handshakeTimeout = .seconds(Int64(try DurationParser.seconds(from: handshakeTimeout)))
        settings.maxWaitingClients = max(1, maxQueue)
        settings.partialExpiry = .seconds(try DurationParser.seconds(from: partialExpiry))
        return settings
    }

    /// The saved settings with the flags given on top.
    private func overriding(_ saved: SavedSettings) -> SavedSettings {
        var merged = saved
        if let root { merged.root = root }
        if let port { merged.port = port }
        if let interval { merged.interval = interval }
        if let name { merged.name = name }
        if let listen { merged.listen = listen }
        if let interface { merged.interface = interface }
        return merged
    }

    /// The server's secret, created (and shown once, or reported) if there is none yet.
    private static func loadSecret(at secretPath: String, interactive: Bool, logger: Logger) throws -> [UInt8] {
        if FileManager.default.fileExists(atPath: secretPath) { return try KeyFile.load(secretPath) }
        let secret = try KeyFile.create(secretPath)
        if interactive {
            print(
                """
                A new server secret was saved to \(secretPath) (mode 0600). It is shown only now:

                    \(secret.hexString)

                Put it in a file on each client (mode 0600) and pass it with --secret-file.
                """)
        } else {
            logger.notice(
                "generated a new server secret in \(secretPath) (mode 0600); give clients a copy (--secret-file)")
        }
        return secret
    }
}
