import ArgumentParser
import FileSyncClient
import FileSyncCore
import FileSyncSystem
import Foundation
import Logging

/// `filesync-client [backup] --source DIR ...`: the default subcommand, so every invocation
/// without a subcommand name is a backup (or `--discover`), as before `restore` and `snapshots`.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up a folder to a filesync server on the local network (the default).",
        discussion: """
            Runs one backup and exits (the cron case), or keeps running with --loop or --watch.

            \(ClientCommand.exitCodes)
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Take unset options from this profile of $XDG_CONFIG_HOME/filesync/client.json (default: default).")
    var profile: String?
    @Option(
        help:
            "The folder to back up. Repeatable: several folders are each stored in a folder named after their last path component."
    )
    var source: [String] = []
    @Option(
        help: "This client's id (its folder on the server): 1-64 of letters, digits, '.', '_', '-'. Default: host name."
    )
    var id: String?
    @Flag(help: "List the servers that answer discovery and exit.") var discover = false
    @Flag(help: "Keep running: back up again when the server's NEXT_SYNC says.") var loop = false
    @Option(
        help: """
            How often to back up (15m, 1h, 1d): with --loop, this often instead of when the server's NEXT_SYNC \
            says; with --watch, at least this often. The setup saves it in the profile.
            """)
    var schedule: String?
    @OptionGroup var watching: WatchOptions
    @Flag(help: "Delete on the server what was deleted here (never when the source is empty).") var delete = false
    @Option(help: "Send file data at most this fast, in bytes per second: 500K, 20M, 1G.") var bwlimit: String?
    @Option(help: "zlib level 1-9 for file data; 0 turns compression off. Default: 1.") var compressLevel: Int?
    @Option(help: "zstd level 1-19, used instead of zlib when the server supports zstd; 0 keeps to zlib. Default: 1.")
    var zstdLevel: Int?
    @Option(help: "Leave out paths matching PATTERN (gitignore syntax, at the source's root); repeatable.")
    var exclude: [String] = []
    @Option(help: "Read exclude patterns from FILE (gitignore syntax, at the source's root); repeatable.")
    var excludeFrom: [String] = []
    @Option(help: "Leave out files larger than SIZE (bytes, or 500K, 20M, 1G); listed as skipped in --json.")
    var excludeLargerThan: String?
    @Flag(help: "Leave out folders holding a valid CACHEDIR.TAG (Cache Directory Tagging Specification).")
    var excludeCaches = false
    @Flag(name: [.customShort("x"), .long], help: "Do not cross mount points: keep them as empty folders.")
    var oneFileSystem = false
    @Flag(help: "With --delete, also delete on the server what is excluded here (implies --delete).")
    var deleteExcluded = false
    @Flag(
        name: [.customShort("n"), .long],
        help: "Show what a backup would do (new, changed, meta, delete) without sending or changing anything.")
    var dryRun = false
    @Flag(help: "Print the summary as one JSON object.") var json = false
    @Flag(help: "Show a progress line on standard error even when it is not a terminal.") var progress = false
    @Flag(help: "Never show the progress line.") var noProgress = false
    @Flag(help: "With --json: print status messages (NDJSON) at most once a second before the summary.")
    var jsonProgress = false
    @Option(
        help:
            "Ping this http(s) URL: URL/start before the run, URL after a success, URL/<exit code> after a failure (10 s each; a failed ping never fails the backup)."
    )
    var pingUrl: String?
    @Flag(
        name: .shortAndLong,
        help: "Print nothing on standard output when the run succeeded; errors still go to standard error.")
    var quiet = false
    @Flag(
        help:
            "Do not keep the chunk memos of large files ($XDG_CACHE_HOME/filesync/chunks) that spare rehashing their unchanged parts."
    )
    var noCache = false
    @Flag(help: "Do not back up extended attributes and POSIX ACLs (user.*, security.capability, system.posix_acl_*).")
    var noXattrs = false
    @Flag(help: "Back up extended attributes and POSIX ACLs (the default; overrides \"xattrs\": false in a profile).")
    var xattrs = false

    func validate() throws {
        if xattrs && noXattrs { throw ValidationError("--xattrs and --no-xattrs contradict each other") }
        guard (0...9).contains(compressLevel ?? 1) else {
            throw ValidationError("--compress-level must be from 0 to 9")
        }
        guard (0...19).contains(zstdLevel ?? 1) else { throw ValidationError("--zstd-level must be from 0 to 19") }
        if let excludeLargerThan, RateLimit.parse(excludeLargerThan) == nil {
            throw ValidationError("--exclude-larger-than takes a size, e.g. 500K, 20M or 1G")
        }
        if watching.watch && loop {
            throw ValidationError("--watch and --loop do not go together (--watch also follows NEXT_SYNC)")
        }
        _ = try scheduleInterval()
        if jsonProgress && !json { throw ValidationError("--json-progress goes with --json") }
        if dryRun && (loop || watching.watch || quiet || jsonProgress || discover) {
            throw ValidationError(
                "--dry-run prints what one backup would do: it does not go with --loop, --watch, --quiet, "
                    + "--json-progress or --discover"
            )
        }
        if let pingUrl, HealthPing(url: pingUrl, logger: Logger(label: "filesync-client")) == nil {
            throw ValidationError("--ping-url takes an http or https URL, e.g. https://hc-ping.com/UUID")
        }
        if let bwlimit, RateLimit.parse(bwlimit) == nil {
            throw ValidationError("--bwlimit takes bytes per second, e.g. 500K, 20M or 1G")
        }
    }

    func run() async throws {
        connection.bootstrapLogging()
        let command: BackupCommand
        do {
            command = try withProfile()
        } catch {
            ClientCommand.fail(ClientCommand.classify(error).1)
            throw ExitCode(ClientExitCode.usage.rawValue)
        }
        guard command.discover || !command.source.isEmpty else {
            ClientCommand.fail("--source DIR is required (or \"source\" in a profile of \(ClientProfile.path))")
            throw ExitCode(ClientExitCode.usage.rawValue)
        }
        try await command.execute()
    }

    /// Runs the command once its profile is applied.
    private func execute() async throws {
        let logger = Logger(label: "filesync-client")
        // A dry run is no backup: it must not tell the monitor that one succeeded.
        let ping = discover || dryRun ? nil : pingUrl.flatMap { HealthPing(url: $0, logger: logger) }
        await ping?.ping("start")
        let code: ClientExitCode
        do {
            if discover {
                code = try await listServers(logger: logger)
            } else {
                code = dryRun ? try await preview(logger: logger) : try await backUp(logger: logger)
            }
        } catch {
            let (code, message) = ClientCommand.classify(error)
            ClientCommand.fail(message)
            await ping?.ping("\(code.rawValue)")
            throw ExitCode(code.rawValue)
        }
        await ping?.ping(code == .success ? "" : "\(code.rawValue)")
        if code != .success { throw ExitCode(code.rawValue) }
    }

    // MARK: - Modes

    private func listServers(logger: Logger) async throws -> ClientExitCode {
        let discovery = ServerDiscovery(
            group: try Endpoint(parsing: connection.discoveryGroup),
            interface: connection.interface ?? MulticastSetup.defaultInterface(),
            timeout: .seconds(try DurationParser.seconds(from: connection.discoveryWait)), logger: logger)
        let servers = try await discovery.discover(waitFullTime: true)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(servers), as: UTF8.self))
        } else if servers.isEmpty {
            let group6 = "[\(Endpoint.defaultGroup6.host)]:\(discovery.group.port)"
            ClientCommand.fail(
                "no server answered on \(discovery.group) (nor on \(group6) where IPv6 is up) via \(discovery.interface)"
            )
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
        let locks = try options.lockSources()
        defer { withExtendedLifetime(locks) {} }
        let client = BackupClient(options: options, logger: logger)
        let json = self.json
        let quiet = self.quiet
        guard loop || watching.watch else {
            // A single run stopped by a signal says what the server keeps (a loop stops gracefully).
            let current = StopSignals.CurrentRun()
            let stop = StopSignals { current.stopReport }
            defer { withExtendedLifetime(stop) {} }
            let stats = current.begin()
            let reporter = progressStyle.map { ProgressReporter(stats: stats, style: $0) }
            let result: Result<BackupSummary, any Error>
            do {
                result = .success(try await client.run(stats: stats))
            } catch {
                result = .failure(error)
            }
            await reporter?.finish()
            var summary = try result.get()
            if jsonProgress { summary.messageType = "summary" }
            Self.report(summary, json: json, quiet: quiet)
            // A folder that could not be read is a partial backup too, as rsync's exit 23 says.
            if !summary.failed.isEmpty || summary.hasUnreadableFolders { return .someFilesFailed }
            return (delete || deleteExcluded) && summary.emptySource ? .emptySourceRefused : .success
        }
        if watching.watch {
            let loop = WatchLoop(
                client: client, logger: logger, schedule: try watching.schedule(), every: try scheduleInterval()
            ) { Self.report($0, json: json, quiet: quiet) }
            try await WatchLoop.serve(loop)
            return .success
        }
        try await BackupLoop.serve(
            BackupLoop(client: client, logger: logger, every: try scheduleInterval()) {
                Self.report($0, json: json, quiet: quiet)
            })
        return .success
    }

    func makeOptions() throws -> BackupOptions {
        let idText = id ?? ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        let sources = try self.source.map { path in
            let source = URL(fileURLWithPath: path).standardizedFileURL.path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                throw FileSyncError(.invalidSetting, "the source folder \(source) does not exist or is not a folder")
            }
            return source
        }
        let set = sources.count > 1 ? try SourceSet(paths: sources) : nil
        var options = try connection.options(clientID: try ClientID(validating: idText), source: sources[0])
        options.sources = set
        if !noCache {
            options.chunkCacheDirectory = XDGPaths().cache + "/chunks"
        }
        options.compressionLevel = compressLevel ?? 1
        options.zstdLevel = zstdLevel ?? 1
        options.xattrs = !noXattrs
        options.mirrorDeletions = delete || deleteExcluded
        options.deleteExcluded = deleteExcluded
        options.exclusion = ExclusionFilter(
            rootRules: try rootRules(), maxFileSize: excludeLargerThan.flatMap(RateLimit.parse))
        options.exclusion.excludeCaches = excludeCaches
        options.exclusion.oneFileSystem = oneFileSystem
        options.bytesPerSecond = bwlimit.flatMap(RateLimit.parse)
        return options
    }

    /// How progress is shown in a single run: status messages with `--json-progress`, a line on a
    /// terminal (or with `--progress`), else not at all.
    private var progressStyle: ProgressReporter.Style? {
        if json && jsonProgress { return .json }
        if noProgress || jsonProgress { return nil }
        return progress || ProgressReporter.stderrIsTerminal ? .line : nil
    }

    /// The rules of `--exclude-from` files, then of `--exclude` patterns (so that these win).
    private func rootRules() throws -> IgnoreRules {
        var text = ""
        for file in excludeFrom {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw FileSyncError(
                    .invalidSetting, "cannot read the --exclude-from file \(file) (missing or unreadable)")
            }
            text += String(decoding: data, as: UTF8.self) + "\n"
        }
        // A pattern given on the command line is one line, even if it holds a newline.
        text += exclude.map { $0.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n")
        return IgnoreRules(text: text, folder: "")
    }

    // MARK: - Output

    private static func report(_ summary: BackupSummary, json: Bool, quiet: Bool) {
        // Quiet: a run that stored everything prints nothing on stdout (cron mails only failures).
        let succeeded = summary.failed.isEmpty && summary.deletionsSkipped == nil
        if quiet && succeeded {
        } else if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            if let data = try? encoder.encode(summary) { print(String(decoding: data, as: UTF8.self)) }
        } else {
            print(Self.line(summary))
        }
        fflush(nil)
        for failure in summary.failed {
            ClientCommand.fail("failed: \(failure.path): \(failure.error?.message ?? "unknown error")")
        }
        if let reason = summary.deletionsSkipped { ClientCommand.fail("deletions not applied: \(reason)") }
    }

    /// The human summary line of a backup.
    static func line(_ summary: BackupSummary) -> String {
        let bytes = SnapshotsClient.byteCount
        var line = "filesync: \(Plural.count(summary.scanned, "file")) scanned, \(summary.sent) sent, "
        line += "\(summary.unchanged) unchanged, \(summary.failed.count) failed"
        if summary.excluded > 0 { line += ", \(summary.excluded) excluded" }
        if !summary.warnings.isEmpty { line += ", \(Plural.count(summary.warnings.count, "entry", "entries")) skipped" }
        if summary.mirrorDeletions {
            line +=
                summary.deletionsSkipped == nil
                ? ", \(summary.deleted) deleted on the server" : ", deletions not applied"
        } else {
            line += ", deletions kept on the server"
        }
        if summary.retries > 0 {
            line += "; \(summary.retries) retries, \(bytes(summary.bytesResumed)) resumed, "
            line += "\(bytes(summary.bytesResent)) resent"
        } else if summary.bytesResumed > 0 {
            // Continued from what a run stopped before left on the server.
            line += "; \(bytes(summary.bytesResumed)) resumed"
        }
        if summary.bytesDeduplicated > 0 {
            line += "; \(bytes(summary.bytesDeduplicated)) already on the server"
        }
        line += "; \(bytes(summary.bytesOnWire)) on the wire in \(String(format: "%.2f", summary.seconds)) s"
        if summary.secondsQueued >= 0.05 {
            line += " (\(String(format: "%.1f", summary.secondsQueued)) s of it waiting in the server's queue)"
        }
        if let server = summary.server { line += " to \(summary.serverName.map { "\"\($0)\" " } ?? "")\(server)" }
        if let next = summary.nextSyncSeconds { line += "; next backup in \(DurationParser.format(next))" }
        return line
    }
}
