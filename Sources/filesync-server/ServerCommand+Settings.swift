import FileSyncCore
import FileSyncServer
import FileSyncSystem
import Foundation

extension ServerCommand {
    /// The settings from the flags, the saved config and, on a terminal, the setup questions.
    func resolveSettings() throws -> ServerSettings {
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
            saved = try SetupWizard().ask(current: merged)
            if saved.serverId == nil { saved.serverId = try ServerIDFile.loadOrCreate(in: stateFolder) }
            try saved.save(to: configPath)
            print("Settings saved to \(configPath). Edit it, run with --setup, or override with flags.")
            merged = saved
        }

        let secret = try Self.loadSecret(at: secretPath, interactive: interactive)

        var settings = ServerSettings(
            root: try SettingValidation.root(merged.root!),
            port: try SettingValidation.port(String(merged.port!)),
            intervalSeconds: try SettingValidation.interval(merged.interval!),
            name: try SettingValidation.name(merged.name!),
            // A config file's id (written by setup) wins; otherwise the one kept beside the TLS key.
            serverId: try merged.serverId ?? ServerIDFile.loadOrCreate(in: stateFolder),
            multicastInterface: interface ?? MulticastSetup.defaultInterface(),
            authenticator: Authenticator(secret: secret))
        (settings.history, settings.applyOwners) = (!noHistory, applyOwners)
        settings.retention = retention.policy(
            over: try merged.retention.map(RetentionPolicy.init(counts:)) ?? .defaults)
        if !noTls {
            let (identity, created) = try ServerIdentity.loadOrCreate(in: stateFolder, name: settings.name)
            settings.identity = identity
            if created {
                FileHandle.standardError.write(
                    Data(
                        "filesync-server: created a TLS key and certificate in \(stateFolder) (server-tls.key, server-tls.crt)\n"
                            .utf8))
            }
        }
        settings.listenHost = listen
        settings.group = try Endpoint(parsing: group)
        settings.discoveryEnabled = !noDiscovery
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
        return merged
    }

    /// The server's secret, created (and shown once, or reported) if there is none yet.
    private static func loadSecret(at secretPath: String, interactive: Bool) throws -> [UInt8] {
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
            FileHandle.standardError.write(
                Data(
                    "filesync-server: generated a new server secret in \(secretPath) (mode 0600); give clients a copy (--secret-file)\n"
                        .utf8))
        }
        return secret
    }
}
