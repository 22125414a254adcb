import FileSyncCore
import Foundation
import Logging
import NIOCore

/// How a backup run is to be done: the command line's flags, validated.
public struct BackupOptions: Sendable {
    public var source: String
    public var clientID: ClientID
    /// Proves the server's shared secret, and checks that the server knows it too.
    public var authenticator: Authenticator
    /// This client's own key, which its id is bound to on the server.
    public var clientKey: [UInt8]
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
    /// Mirror deletions (`--delete`); never applied when the source is empty.
    public var mirrorDeletions = false
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
        case .connectionLost(let detail, let attempts): "connection lost after \(attempts) attempt(s): \(detail)"
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

    public func run() async throws -> BackupSummary {
        let clock = ContinuousClock()
        let start = clock.now
        var options = options
        var summary = BackupSummary()

        let scan = try await scanSource(&options, summary: &summary)

        let counter = ByteCounter()
        let stats = TransferStats()
        var stored = EntrySet()
        var bytesSent: Int64 = 0
        var attempt = 0
        var failuresWithoutProgress = 0
        var readyBefore = 0
        var last: ClientSession.Outcome?
        while true {
            attempt += 1
            do {
                let (endpoint, announced) = try await resolveServer(options)
                summary.server = endpoint.description
                let session = ClientSession(
                    endpoint: endpoint, announcedFingerprint: announced, options: options, scan: scan, counter: counter,
                    stats: stats, logger: logger)
                let outcome = try await session.run()
                stored.formUnion(outcome.stored)
                bytesSent += outcome.bytesSent
                last = outcome
                break
            } catch let error where Self.isRetryable(error) {
                // A session that got going before it broke resets the backoff: only repeated
                // failures without progress wait longer and longer.
                failuresWithoutProgress = stats.sessionsReady > readyBefore ? 1 : failuresWithoutProgress + 1
                readyBefore = stats.sessionsReady
                let delay = Self.backoff(attempt: failuresWithoutProgress, first: options.retryWait)
                let outOfTime = options.retryFor.map { clock.now + delay > start + $0 } ?? false
                guard attempt <= options.retries, !outOfTime else {
                    if case BackupFailure.noServer = error { throw error }
                    throw BackupFailure.connectionLost("\(error)", attempts: attempt)
                }
                logger.warning(
                    "attempt failed; retrying",
                    metadata: [
                        "attempt": "\(attempt)", "error": "\(error)",
                        "seconds": "\(String(format: "%.1f", delay.inSeconds))",
                    ])
                summary.retries += 1
                try await Task.sleep(for: delay)
            } catch let refusal as ServerRefusal {
                throw Self.failure(refusal)
            }
        }

        summarise(
            &summary, scan: scan, last: last, stored: stored, bytesSent: bytesSent, stats: stats, counter: counter)
        summary.seconds = (clock.now - start).inSeconds
        return summary
    }

    /// Scans the source, noting what it skipped; `--delete` is dropped for an empty source.
    private func scanSource(
        _ options: inout BackupOptions, summary: inout BackupSummary
    ) async throws -> SourceScanner.Result {
        let scan = try await SourceScanner(source: options.source).scan()
        summary.scanned = scan.fileCount
        summary.warnings = scan.warnings
        for warning in scan.warnings {
            logger.warning(
                "skipped", metadata: ["path": "\(warning.path)", "reason": "\(warning.error?.message ?? "")"])
        }
        if options.mirrorDeletions && scan.entries.isEmpty {
            let reason = "the source folder is empty; refusing to delete anything on the server"
            summary.deletionsSkipped = reason
            logger.warning(Logger.Message(stringLiteral: reason))
            options.mirrorDeletions = false
        }
        return scan
    }

    /// The run's summary from the last session's outcome and the counters of all sessions; drops the
    /// chunk memos of files no longer in the source.
    private func summarise(
        _ summary: inout BackupSummary, scan: SourceScanner.Result, last: ClientSession.Outcome?, stored: EntrySet,
        bytesSent: Int64, stats: TransferStats, counter: ByteCounter
    ) {
        if scan.warnings.isEmpty, let directory = options.chunkCacheDirectory,
            let cache = ChunkCache(directory: directory, id: options.clientID)
        {
            // The scan saw the whole source: memos of files no longer in it are dropped.
            cache.prune(keeping: scan.entries)
        }
        if let last {
            summary.failed = last.failed.map {
                FileResult(path: $0.key, error: ErrorMessage(code: "failed", message: $0.value))
            }
            .sorted { $0.path < $1.path }
            summary.nextSyncSeconds = last.next?.afterSeconds
            summary.deleted = last.next?.deleted ?? 0
            summary.serverName = last.serverName
            if let skipped = last.next?.deletionsSkipped { summary.deletionsSkipped = skipped }
        }
        summary.sent = stored.count
        summary.skipped = max(0, summary.scanned - summary.sent - summary.failed.count)
        summary.bytesSent = bytesSent
        summary.bytesResumed = stats.bytesResumed
        summary.filesResumed = stats.filesResumed
        summary.bytesDeduplicated = stats.bytesDeduplicated
        summary.bytesResent = max(0, stats.contentBytesSent - bytesSent)
        summary.bytesOnWire = counter.bytes
    }

    /// The failure a server's `ERROR` means for the run.
    private static func failure(_ refusal: ServerRefusal) -> BackupFailure {
        switch refusal.error.code {
        case FileSyncError.Code.authenticationFailed.rawValue: .authentication(refusal.error.message)
        case FileSyncError.Code.clientKeyMismatch.rawValue: .clientKeyMismatch(refusal.error.message)
        default: .refused(refusal)
        }
    }

    /// The server to use and, when found by discovery, the TLS fingerprint its OFFER announced.
    private func resolveServer(_ options: BackupOptions) async throws -> (Endpoint, String?) {
        if let server = options.server { return (server, nil) }
        let discovery = ServerDiscovery(
            group: options.group, interface: options.interface, timeout: options.discoveryTimeout, logger: logger)
        let servers = try await discovery.discover(waitFullTime: false)
        let matching = options.serverName.map { name in servers.filter { $0.name == name } } ?? servers
        guard !matching.isEmpty else {
            let wanted = options.serverName.map { "named \"\($0)\" " } ?? ""
            throw BackupFailure.noServer(
                "no server \(wanted)answered on \(options.group) via \(options.interface) within \(options.discoveryTimeout)"
            )
        }
        guard matching.count == 1 else {
            let names = matching.map { "\($0.name) (\($0.endpoint))" }.joined(separator: ", ")
            throw FileSyncError(
                .invalidSetting, "several servers answered: \(names); choose one with --server-name or --server")
        }
        logger.info("found a server", metadata: ["name": "\(matching[0].name)", "endpoint": "\(matching[0].endpoint)"])
        return (matching[0].endpoint, matching[0].fingerprint)
    }

    /// Lost connections, timeouts, a full queue and an absent server are worth another attempt.
    static func isRetryable(_ error: any Error) -> Bool {
        switch error {
        case let error as FileSyncError:
            return [.connectionClosed, .timeout].contains(error.code)
        case let refusal as ServerRefusal:
            return refusal.error.code == FileSyncError.Code.queueFull.rawValue
        case BackupFailure.noServer:
            return true
        case is BackupFailure, is CancellationError:
            return false
        default:
            // NIO connection and socket errors: refused, reset, closed, connect timeout.
            return error is ChannelError || error is IOError || "\(type(of: error))".contains("Connect")
        }
    }

    /// Exponential backoff from `first`, doubling per attempt, capped at 60 s, with ±25% jitter.
    static func backoff(attempt: Int, first: Duration = .seconds(1)) -> Duration {
        let base = min(60.0, first.inSeconds * pow(2.0, Double(attempt - 1)))
        return .milliseconds(Int(base * Double.random(in: 0.75...1.25) * 1000))
    }
}
