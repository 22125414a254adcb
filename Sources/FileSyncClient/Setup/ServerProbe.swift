import FileSyncCore
import Logging

/// One connection to a server that proves the secret both ways and pins the server's TLS
/// fingerprint (trust on first use), for `filesync-client setup`: a dry run of an empty manifest,
/// which changes nothing on the server (not even the id's key binding) and whose `NEXT_SYNC` tells
/// the server's interval.
public struct ServerProbe: Sendable {
    /// What the probe learnt.
    public struct Answer: Sendable {
        public var serverName: String
        /// The server's interval, when it can do dry runs (an older server: `nil`).
        public var intervalSeconds: Int?
    }

    public let options: BackupOptions
    public let logger: Logger

    public init(options: BackupOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    /// Connects once (no retry) to `server`; `fingerprint` is the one its discovery OFFER announced,
    /// if it was found that way. Throws what a backup would (``BackupFailure/authentication(_:)`` for
    /// a wrong secret, ``BackupFailure/clientKeyMismatch(_:)``, ``BackupFailure/serverIdentity(_:)``...).
    public func run(server: Endpoint, fingerprint: String?) async throws -> Answer {
        var options = options
        options.dryRun = true
        options.retries = 0
        let session = ClientSession(
            endpoint: server, announcedFingerprint: fingerprint, options: options, scan: SourceScanner.Result(),
            counter: WireCounter(), stats: TransferStats(), logger: logger)
        do {
            let outcome = try await session.run()
            return Answer(serverName: outcome.serverName ?? "", intervalSeconds: outcome.next?.afterSeconds)
        } catch let unsupported as DryRunUnsupported {
            // The handshake, and so the proof of the secret, went through before this.
            return Answer(serverName: unsupported.serverName, intervalSeconds: nil)
        } catch let refusal as ServerRefusal {
            throw SessionRetries.failure(refusal)
        }
    }
}
