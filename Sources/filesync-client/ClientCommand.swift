import ArgumentParser
import FileSyncClient
import FileSyncCore
import FileSyncSystem
import Foundation
import Logging

@main
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filesync-client",
        abstract: "Back up a folder to a filesync server on the local network.",
        discussion: """
            Runs one backup and exits (the cron case), or keeps running with --loop.

            Exit codes:
              0   success
              1   refused by the server, or another failure
              23  some files failed (the rest is stored)
              64  usage or configuration error
              69  no server found
              73  another backup of this source is running
              75  connection lost after the retries
              76  TLS failed: the server's fingerprint changed, or one side runs without TLS
              77  authentication failed: wrong secret, or the server could not prove it knows it
              78  the client id is bound to another client's key on the server
            """)

    @Option(help: "The folder to back up.") var source: String?
    @Option(
        help: "This client's id (its folder on the server): 1-64 of letters, digits, '.', '_', '-'. Default: host name."
    )
    var id: String?
    @Option(help: "Use this server, HOST:PORT, instead of discovery.") var server: String?
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
    @Flag(help: "List the servers that answer discovery and exit.") var discover = false
    @Flag(help: "Keep running: back up again when the server's NEXT_SYNC says.") var loop = false
    @Flag(help: "Delete on the server what was deleted here (never when the source is empty).") var delete = false
    @Option(help: "Reconnection attempts after a lost connection (0: one attempt only).") var retries = 3
    @Option(help: "Stop retrying after this long since the start, e.g. 10m.") var retryFor: String?
    @Option(help: "First wait before retrying (doubles each time, up to 1m), e.g. 1s or 200ms.")
    var retryWait = "1s"
    @Option(help: "Give up on a connection without progress for this long.") var timeout = "5m"
    @Option(help: "Send file data at most this fast, in bytes per second: 500K, 20M, 1G.") var bwlimit: String?
    @Option(help: "zlib level 1-9 for file data; 0 turns compression off.") var compressLevel = 1
    @Option(help: "zstd level 1-19, used instead of zlib when the server supports zstd; 0 keeps to zlib.")
    var zstdLevel = 1
    @Flag(help: "Print the summary as one JSON object.") var json = false
    @Flag(
        help:
            "Do not keep the chunk memos of large files ($XDG_CACHE_HOME/filesync/chunks) that spare rehashing their unchanged parts."
    )
    var noCache = false
    @Option(help: "IPv4 address of the interface used for discovery (default: first non-loopback multicast interface).")
    var interface: String?
    @Option(help: "Multicast group for discovery, ADDR:PORT.") var group = Endpoint.defaultGroup.description
    @Option(help: "How long discovery listens for answers.") var discoveryTimeout = "3s"
    @Flag(name: .shortAndLong, help: "Log progress to standard error.") var verbose = false

    func validate() throws {
        if !discover && source == nil { throw ValidationError("--source DIR is required") }
        guard retries >= 0 else { throw ValidationError("--retries must be 0 or more") }
        guard (0...9).contains(compressLevel) else { throw ValidationError("--compress-level must be from 0 to 9") }
        guard (0...19).contains(zstdLevel) else { throw ValidationError("--zstd-level must be from 0 to 19") }
        if let bwlimit, RateLimit.parse(bwlimit) == nil {
            throw ValidationError("--bwlimit takes bytes per second, e.g. 500K, 20M or 1G")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { [verbose] label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .info : .warning
            return handler
        }
        let logger = Logger(label: "filesync-client")
        let code: ClientExitCode
        do {
            code = discover ? try await listServers(logger: logger) : try await backUp(logger: logger)
        } catch {
            let (code, message) = Self.classify(error)
            fail(message)
            throw ExitCode(code.rawValue)
        }
        if code != .success { throw ExitCode(code.rawValue) }
    }

    // MARK: - Modes

    private func listServers(logger: Logger) async throws -> ClientExitCode {
        let discovery = ServerDiscovery(
            group: try Endpoint(parsing: group), interface: interface ?? MulticastSetup.defaultInterface(),
            timeout: .seconds(try DurationParser.seconds(from: discoveryTimeout)), logger: logger)
        let servers = try await discovery.discover(waitFullTime: true)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(servers), as: UTF8.self))
        } else if servers.isEmpty {
            fail("no server answered on \(discovery.group) via \(discovery.interface)")
        } else {
            for server in servers {
                let tls = server.fingerprint.map { "tls \($0)" } ?? "no tls"
                print("\(server.name)\t\(server.endpoint)\tprotocol \(server.version)\tid \(server.serverId)\t\(tls)")
            }
        }
        return servers.isEmpty ? .noServer : .success
    }

    private func backUp(logger: Logger) async throws -> ClientExitCode {
        let options = try makeOptions()
        let lock = try SourceLock(source: options.source)
        defer { withExtendedLifetime(lock) {} }
        let client = BackupClient(options: options, logger: logger)
        guard loop else {
            let summary = try await client.run()
            report(summary)
            return summary.failed.isEmpty ? .success : .someFilesFailed
        }
        var failures = 0
        while true {
            let delay: Duration
            do {
                let summary = try await client.run()
                report(summary)
                failures = 0
                delay = .seconds(summary.nextSyncSeconds ?? 3600)
            } catch {
                failures += 1
                fail("\(Self.classify(error).1); trying again later")
                delay = .seconds(min(3600, 30 * (1 << min(failures, 7))))
            }
            logger.info("next backup in \(DurationParser.format(Int(delay.inSeconds)))")
            try await Task.sleep(for: delay)
        }
    }

    private func makeOptions() throws -> BackupOptions {
        let idText = id ?? ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        let source = URL(fileURLWithPath: self.source!).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FileSyncError(.invalidSetting, "the source folder \(source) does not exist or is not a folder")
        }
        let clientID = try ClientID(validating: idText)
        let configBase = XDGPaths().config
        let secretPath =
            secretFile
            ?? [configBase + "/secret", configBase + "/server.secret"].first {
                FileManager.default.fileExists(atPath: $0)
            }
        guard let secretPath else {
            throw FileSyncError(
                .invalidSetting,
                "no server secret: give a copy of the server's secret with --secret-file FILE (or put it in \(configBase)/secret)"
            )
        }
        let secret = try KeyFile.load(secretPath)
        let clientKey = try KeyFile.loadOrCreate(keyFile ?? configBase + "/keys/\(clientID).key").key
        var options = BackupOptions(
            source: source, clientID: clientID, interface: interface ?? MulticastSetup.defaultInterface(),
            authenticator: Authenticator(secret: secret), clientKey: clientKey,
            knownServersPath: configBase + "/known_servers")
        options.useTLS = !noTls
        if !noCache {
            options.chunkCacheDirectory = XDGPaths().cache + "/chunks"
        }
        options.acceptNewFingerprint = acceptNewFingerprint
        options.server = try server.map { try Endpoint(parsing: $0) }
        options.serverName = serverName
        options.group = try Endpoint(parsing: group)
        options.discoveryTimeout = .seconds(try DurationParser.seconds(from: discoveryTimeout))
        options.compressionLevel = compressLevel
        options.zstdLevel = zstdLevel
        options.mirrorDeletions = delete
        options.retries = retries
        options.bytesPerSecond = bwlimit.flatMap(RateLimit.parse)
        options.retryFor = try retryFor.map { try DurationParser.duration(from: $0) }
        options.retryWait = try DurationParser.duration(from: retryWait)
        let idle = try DurationParser.duration(from: timeout)
        options.idleTimeout = .nanoseconds(Int64(idle.inSeconds * 1e9))
        return options
    }

    // MARK: - Output

    private func report(_ summary: BackupSummary) {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            if let data = try? encoder.encode(summary) { print(String(decoding: data, as: UTF8.self)) }
        } else {
            var line =
                "filesync: \(summary.scanned) files scanned, \(summary.sent) sent, \(summary.skipped) unchanged, "
            line += "\(summary.failed.count) failed"
            if summary.deleted > 0 { line += ", \(summary.deleted) deleted" }
            if summary.retries > 0 {
                line += "; \(summary.retries) retries, \(Self.bytes(summary.bytesResumed)) resumed, "
                line += "\(Self.bytes(summary.bytesResent)) resent"
            }
            if summary.bytesDeduplicated > 0 {
                line += "; \(Self.bytes(summary.bytesDeduplicated)) already on the server"
            }
            line += "; \(Self.bytes(summary.bytesOnWire)) on the wire in \(String(format: "%.2f", summary.seconds)) s"
            if let server = summary.server { line += " to \(summary.serverName.map { "\"\($0)\" " } ?? "")\(server)" }
            if let next = summary.nextSyncSeconds { line += "; next backup in \(DurationParser.format(next))" }
            print(line)
        }
        fflush(nil)
        for failure in summary.failed { fail("failed: \(failure.path): \(failure.error?.message ?? "unknown error")") }
        if let reason = summary.deletionsSkipped { fail("deletions not applied: \(reason)") }
    }

    private func fail(_ message: String) {
        FileHandle.standardError.write(Data("filesync-client: \(message)\n".utf8))
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func classify(_ error: any Error) -> (ClientExitCode, String) {
        switch error {
        case let busy as SourceLock.Busy: return (.alreadyRunning, busy.description)
        case let failure as BackupFailure:
            switch failure {
            case .noServer: return (.noServer, failure.description)
            case .connectionLost: return (.connectionLost, failure.description)
            case .refused: return (.runtimeFailure, failure.description)
            case .authentication: return (.authenticationFailed, failure.description)
            case .clientKeyMismatch: return (.clientKeyMismatch, failure.description)
            case .serverIdentity: return (.serverIdentity, failure.description)
            }
        case let error as FileSyncError where [.invalidSetting, .invalidClientID].contains(error.code):
            return (.usage, error.message)
        case let error as FileSyncError: return (.runtimeFailure, error.message)
        default: return (.runtimeFailure, "\(error)")
        }
    }
}
