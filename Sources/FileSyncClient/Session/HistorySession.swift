import FileSyncCore
import Logging

/// A `"snapshots"` or `"restore"` session (Protocol.md §11), reached as a backup's session is:
/// discovery or `--server`, TLS with the pinned fingerprint, `HELLO`/`CHALLENGE`/`AUTH` (with
/// `"history"` announced), the queue for a restore, and the backup's retries and backoff.
public struct HistorySession: Sendable {
    /// Only the fields that say how to reach and authenticate to the server are read (not
    /// `source`, compression levels, `--delete` or the chunk cache).
    public let options: BackupOptions
    public let kind: Hello.SessionKind
    public let logger: Logger

    public init(options: BackupOptions, kind: Hello.SessionKind, logger: Logger) {
        precondition(kind != .backup, "a backup is run by BackupClient")
        self.options = options
        self.kind = kind
        self.logger = logger
    }

    /// Runs `body` over the connection after `READY`, with the frame flags the server may use,
    /// and returns its result and the server's address. A lost connection or `ERROR queueFull`
    /// (also from `body`, as ``RestoreFailure``) starts a new session, which runs `body` again.
    ///
    /// - Throws: ``HistoryUnavailable``, ``BackupFailure`` as a backup does (no server,
    ///   connection lost after the retries, authentication, key mismatch, TLS identity, another
    ///   `ERROR` as `refused`), or what `body` threw otherwise.
    public func run<T>(
        _ body: (any RestoreChannel, Frame.Flags) async throws -> T
    ) async throws -> (T, server: Endpoint) {
        let retries = SessionRetries(
            options: options, logger: logger, stats: TransferStats(), start: ContinuousClock().now)
        let counter = WireCounter()
        let ((result, server), _) = try await retries.run { endpoint, announced in
            let session = ClientSession(
                endpoint: endpoint, announcedFingerprint: announced, options: options,
                scan: SourceScanner.Result(), counter: counter, stats: retries.stats, logger: logger, kind: kind)
            let result = try await session.runHistory { channel, codecs in
                do {
                    return try await body(channel, codecs)
                } catch let failure as RestoreFailure {
                    throw Self.retryable(failure)
                }
            }
            return (result, endpoint)
        }
        return (result, server)
    }

    /// A ``RestoreFailure`` as the error the retry rules know: an `ERROR` as a ``ServerRefusal``,
    /// a closed connection as `connectionClosed`.
    static func retryable(_ failure: RestoreFailure) -> any Error {
        switch failure {
        case .refused(let error): ServerRefusal(error: error)
        case .connectionClosed: FileSyncError(.connectionClosed, failure.description)
        }
    }
}
