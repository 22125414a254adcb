import FileSyncCore
import Foundation
import Logging
import NIOCore

/// How a backup run is to be done: the command line's flags, validated.
public struct BackupOptions: Sendable {
    /// The folder to back up; with several (``sources``), the first of them.
    public var source: String
    /// Several folders under one id (`--source` more than once), each in a folder of its name on
    /// the server; `nil` for a single source, whose files stay at the client folder's top level.
    public var sources: SourceSet?
    public var clientID: ClientID
    /// Proves the server's shared secret, and checks that the server knows it too.
    public var authenticator: Authenticator
    /// This client's own key, which its id is bound to on the server.
    public var clientKey: [UInt8]
    /// Where ``clientKey`` is to be saved once a server has accepted it (`READY`): set when the
    /// key is new, so that a run that fails leaves no key file behind.
    public var clientKeyFileToCreate: String?
    /// Skip discovery and use this server.
    public var server: Endpoint?
    /// With discovery, pick the server of this name.
    public var serverName: String?
    public var group = Endpoint.defaultGroup
    public var interface: String
    public var discoveryTimeout = Duration.seconds(3)
    /// zlib level; 0 turns compression off.
    public var compressionLevel = 1
    /// zstd level (1-19) used when the server has the `zstd` capability; 0 keeps to zlib.
    public var zstdLevel = 1
    /// Record extended attributes and POSIX ACLs and send them where the server has `xattrs`
    /// (on unless `--no-xattrs`).
    public var xattrs = true
    /// Mirror deletions (`--delete`); never applied when the source is empty.
    public var mirrorDeletions = false
    /// What the scan leaves out (`.filesyncignore`, `--exclude`, `--exclude-larger-than`).
    public var exclusion = ExclusionFilter()
    /// `--delete-excluded`: mirror deletions even when the scan excluded something (which the
    /// server then deletes too); without it, the excluded paths are kept (``keepingExcluded``).
    public var deleteExcluded = false
    /// With ``mirrorDeletions``: the paths the scan excluded, which the server is asked to keep
    /// with everything below them (`DONE.excluded`); set by the run itself.
    public var keepingExcluded: [String]?
    /// With ``keepingExcluded``: the exclusion rules of the run, sent too when the server takes them
    /// (`DONE.excludeRules`), so that it also keeps the stored paths they exclude; set by the run.
    public var excludeRules: [ExcludeRuleSet]?
    /// Reconnections after a lost connection; 0 means a single attempt.
    public var retries = 3
    /// Stop retrying once this much time has passed since the run started.
    public var retryFor: Duration?
    /// Send file data at most this fast (`--bwlimit`); `nil` for no limit.
    public var bytesPerSecond: Int64?
    /// The first wait before a retry; it doubles each time (with jitter) up to a minute.
    public var retryWait = Duration.seconds(1)
    /// Use TLS (the default); `false` only for servers run with `--no-tls`.
    public var useTLS = true
    /// Where server fingerprints are pinned on first use.
    public var knownServersPath: String
    /// Replace a pinned fingerprint that changed (the server's key was replaced on purpose).
    public var acceptNewFingerprint = false
    /// Give up on a connection after this long without progress in either direction.
    public var idleTimeout = TimeAmount.seconds(300)
    /// Where the chunk memos of large files are kept between runs (``ChunkCache``); `nil` cuts and
    /// hashes every large file in full.
    public var chunkCacheDirectory: String?
    /// `--dry-run`: ask the server what a backup would do, send no file content, change nothing
    /// (needs a server with the `dryRun` capability).
    public var dryRun = false

    public init(
        source: String, clientID: ClientID, interface: String, authenticator: Authenticator, clientKey: [UInt8],
        knownServersPath: String
    ) {
        self.knownServersPath = knownServersPath
        self.source = source
        self.clientID = clientID
        self.interface = interface
        self.authenticator = authenticator
        self.clientKey = clientKey
    }
}

/// Why a run ended without a complete backup; each maps to its own exit code.
public enum BackupFailure: Error, CustomStringConvertible {
    case noServer(String)
    case connectionLost(String, attempts: Int)
    /// Nothing listens at the server's address, `HOST:PORT` (the last attempt was refused).
    case connectionRefused(String, attempts: Int)
    case refused(ServerRefusal)
    /// The secret is wrong, or the server could not prove it knows it.
    case authentication(String)
    /// The client id is bound to another client's key on the server.
    case clientKeyMismatch(String)
    /// TLS failed or the server's certificate is not the one expected (fingerprint, plaintext mismatch).
    case serverIdentity(String)

    public var description: String {
        switch self {
        case .authentication(let detail), .clientKeyMismatch(let detail), .serverIdentity(let detail): detail
        case .noServer(let detail): "no server found: \(detail)"
        case .connectionLost(let detail, let attempts):
            "connection lost after \(Plural.count(attempts, "attempt")): \(detail)"
        case .connectionRefused(let server, let attempts):
            "nothing is listening on \(server) (connection refused"
                + (attempts > 1 ? ", \(Plural.count(attempts, "attempt")))" : ")")
        case .refused(let refusal): refusal.description
        }
    }
}

/// One backup run: scan, find the server, run sessions (retrying lost connections), summarise.
public struct BackupClient: Sendable {
    public let options: BackupOptions
    public let logger: Logger

    public init(options: BackupOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    /// - Parameters:
    ///   - stats: the run's counters, fresh for each run; whoever passes them can read the file in
    ///     flight meanwhile (``TransferStats/stopReport``).
    ///   - memory: `--watch`'s last scans, with `changes`, what changed since: only the changed
    ///     folders are listed again; without them, everything is scanned.
    public func run(
        stats: TransferStats = TransferStats(), memory: ScanMemory? = nil, changes: WatchChanges? = nil
    ) async throws -> BackupSummary {
        let clock = ContinuousClock()
        let start = clock.now
        var options = options
        var summary = BackupSummary()

        let scan = try await scanSource(&options, summary: &summary, memory: memory, changes: changes)

        let counter = WireCounter()
        let retries = SessionRetries(options: options, logger: logger, stats: stats, start: start)
        let (last, retried) = try await retries.run { endpoint, announced in
            summary.server = endpoint.description
            let session = ClientSession(
                endpoint: endpoint, announcedFingerprint: announced, options: options, scan: scan, counter: counter,
                stats: stats, logger: logger)
            return try await session.run()
        }
        summary.retries = retried

        summarise(&summary, scan: scan, last: last, stats: stats, counter: counter)
        summary.seconds = (clock.now - start).inSeconds
        return summary
    }

    /// Scans the source, noting what it skipped; `--delete` is dropped for an empty source.
    func scanSource(
        _ options: inout BackupOptions, summary: inout BackupSummary, memory: ScanMemory? = nil,
        changes: WatchChanges? = nil
    ) async throws -> SourceScanner.Result {
        var empty: [String] = []
        let scan: SourceScanner.Result
        let logger = logger
        let scanning = { @Sendable (scanner: SourceScanner) async throws -> SourceScanner.Result in
            guard let memory else { return try await scanner.scan() }
            return try await memory.scan(scanner, changes: changes?.changes(of: scanner.source), logger: logger)
        }
        if let sources = options.sources {
            (scan, empty) = try await sources.scan(exclusion: options.exclusion, xattrs: options.xattrs, with: scanning)
        } else {
            scan = try await scanning(
                SourceScanner(source: options.source, exclusion: options.exclusion, xattrs: options.xattrs))
        }
        summary.scanned = scan.fileCount
        summary.warnings = scan.warnings + scan.tooLarge
        summary.excluded = scan.excluded + scan.tooLarge.count
        // One empty source of several is what an unmounted disk looks like too.
        summary.emptySource = scan.entries.isEmpty || !empty.isEmpty
        logSkipped(scan.warnings)
        if options.mirrorDeletions && summary.emptySource {
            let reason =
                empty.isEmpty
                ? "the source folder is empty; refusing to delete anything on the server"
                : "the source folder \(empty[0]) is empty; refusing to delete anything on the server"
            summary.deletionsSkipped = reason
            // The summary carries it to the command, which prints it once ("deletions not applied").
            logger.info(Logger.Message(stringLiteral: reason))
            options.mirrorDeletions = false
        }
        if options.mirrorDeletions, let first = scan.unreadableFolders.first {
            // What those folders hold is missing from the manifest, not deleted: as rsync does after
            // an I/O error, mirror no deletion in this run.
            let count = scan.unreadableFolders.count
            let reason =
                "\(Plural.count(count, "folder", "folders")) could not be read (\(first)\(count > 1 ? ", …" : "")); "
                + "nothing was deleted on the server"
            summary.deletionsSkipped = reason
            // The summary carries it to the command, which prints it once ("deletions not applied").
            logger.info(Logger.Message(stringLiteral: reason))
            options.mirrorDeletions = false
        }
        keepExcluded(&options, scan: scan, summary: &summary)
        for large in scan.tooLarge {
            logger.info("skipped", metadata: ["path": "\(large.path)", "reason": "\(large.error?.message ?? "")"])
        }
        return scan
    }

    /// One warning per skipped entry when verbose or when its reason is not repeated; otherwise one
    /// line per reason with a count, so that a cron mail stays readable.
    private func logSkipped(_ warnings: [FileResult]) {
        var reasons: [String] = []
        var byReason: [String: [String]] = [:]
        for warning in warnings {
            let reason = warning.error?.message ?? ""
            if byReason[reason] == nil { reasons.append(reason) }
            byReason[reason, default: []].append(warning.path)
        }
        for reason in reasons {
            let paths = byReason[reason] ?? []
            if paths.count == 1 || logger.logLevel <= .info {
                for path in paths { logger.warning("skipped", metadata: ["path": "\(path)", "reason": "\(reason)"]) }
            } else {
                logger.warning(
                    "skipped \(paths.count) entries (-v lists them)",
                    metadata: ["reason": "\(reason)", "first": "\(paths[0])"])
            }
        }
    }

    /// The run's summary from the last session's outcome and the counters of all sessions; drops the
    /// chunk memos of files no longer in the source.
    private func summarise(
        _ summary: inout BackupSummary, scan: SourceScanner.Result, last: ClientSession.Outcome, stats: TransferStats,
        counter: WireCounter
    ) {
        if scan.warnings.isEmpty, let directory = options.chunkCacheDirectory,
            let cache = ChunkCache(directory: directory, id: options.clientID)
        {
            // The scan saw the whole source: memos of files no longer in it are dropped.
            cache.prune(keeping: scan.entries)
        }
        summary.failed = last.failed.map {
            FileResult(path: $0.key, error: ErrorMessage(code: "failed", message: $0.value))
        }
        .sorted { $0.path < $1.path }
        let leftOut =
            last.symlinksLeftOut.map { ($0, "the server does not keep symlinks (it lacks the metadata capability)") }
            + last.specialsLeftOut.map {
                ($0, "not a regular file or folder (the server lacks the specials capability)")
            }
        for (path, reason) in leftOut {
            summary.warnings.append(FileResult(path: path, error: ErrorMessage(code: "skipped", message: reason)))
            logger.warning("skipped", metadata: ["path": "\(path)", "reason": "\(reason)"])
        }
        summary.nextSyncSeconds = last.next?.afterSeconds
        summary.metadataUpdated = max(0, last.next?.metadataUpdated ?? 0) + last.metadataOnly
        summary.deleted = last.next?.deleted ?? 0
        summary.serverName = last.serverName
        if let skipped = last.next?.deletionsSkipped ?? last.deletionsWithheld { summary.deletionsSkipped = skipped }
        summary.sent = last.stored.count - last.metadataOnly
        summary.unchanged = max(0, summary.scanned - summary.sent - summary.failed.count)
        summary.skipped = summary.unchanged
        summary.mirrorDeletions = options.mirrorDeletions
        summary.secondsQueued = stats.secondsQueued
        summary.bytesSent = last.bytesSent
        summary.bytesResumed = stats.bytesResumed
        summary.filesResumed = stats.filesResumed
        summary.bytesDeduplicated = stats.bytesDeduplicated
        summary.bytesResent = stats.bytesResent
        summary.bytesOnWire = counter.bytes
    }
}
