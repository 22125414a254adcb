import FileSyncCore
import Foundation
import Logging
import NIOCore

/// Finding the server and retrying lost sessions (Protocol.md §9, "Retries"): the same for a
/// backup and for a history session. Each attempt finds the server again (unless `--server` is
/// given); the wait doubles after each attempt that did not reach `READY`.
struct SessionRetries {
    let options: BackupOptions
    let logger: Logger
    /// Counts the sessions that reached `READY`, which reset the backoff.
    let stats: TransferStats
    /// When the run started: `--retry-for` counts from here.
    let start: ContinuousClock.Instant

    /// Runs `attempt` on the server found until it succeeds, or fails in a way not worth another
    /// attempt; returns its result and the number of retries made.
    ///
    /// - Throws: ``BackupFailure`` (`noServer`, `connectionLost` once out of retries,
    ///   `authentication`, `clientKeyMismatch`, `refused` for another `ERROR`), or what the attempt
    ///   threw that is not retried.
    func run<T>(_ attempt: (Endpoint, String?) async throws -> T) async throws -> (T, retries: Int) {
        let clock = ContinuousClock()
        var attempts = 0
        var failuresWithoutProgress = 0
        var readyBefore = 0
        var endpoint: Endpoint?
        while true {
            attempts += 1
            do {
                let (found, announced) = try await resolveServer()
                endpoint = found
                return (try await attempt(found, announced), attempts - 1)
            } catch let error where Self.isRetryable(error) {
                // A session that got going before it broke resets the backoff: only repeated
                // failures without progress wait longer and longer.
                failuresWithoutProgress = stats.sessionsReady > readyBefore ? 1 : failuresWithoutProgress + 1
                readyBefore = stats.sessionsReady
                let delay = Self.delay(after: error, failures: failuresWithoutProgress, first: options.retryWait)
                let outOfTime = options.retryFor.map { clock.now + delay > start + $0 } ?? false
                guard attempts <= options.retries, !outOfTime else {
                    if case BackupFailure.noServer = error { throw error }
                    if ConnectionFailure.isRefused(error), let endpoint {
                        throw BackupFailure.connectionRefused("\(endpoint)", attempts: attempts)
                    }
                    throw BackupFailure.connectionLost(
                        ConnectionFailure.describe(error, endpoint: endpoint), attempts: attempts)
                }
                logger.warning(
                    "attempt failed; retrying",
                    metadata: [
                        "attempt": "\(attempts)", "error": "\(ConnectionFailure.describe(error, endpoint: endpoint))",
                        "seconds": "\(String(format: "%.1f", delay.inSeconds))",
                    ])
                try await Task.sleep(for: delay)
            } catch let refusal as ServerRefusal {
                throw Self.failure(refusal)
            }
        }
    }

    /// The failure a server's `ERROR` means for the run.
    static func failure(_ refusal: ServerRefusal) -> BackupFailure {
        switch refusal.error.code {
        case FileSyncError.Code.authenticationFailed.rawValue: .authentication(refusal.error.message)
        case FileSyncError.Code.clientKeyMismatch.rawValue: .clientKeyMismatch(refusal.error.message)
        default: .refused(refusal)
        }
    }

    /// The server to use and, when found by discovery, the TLS fingerprint its OFFER announced.
    func resolveServer() async throws -> (Endpoint, String?) {
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

    /// Lost connections, timeouts, a full queue, a busy server and an absent server are worth
    /// another attempt.
    static func isRetryable(_ error: any Error) -> Bool {
        switch error {
        case let error as FileSyncError:
            return [.connectionClosed, .timeout].contains(error.code)
        case let refusal as ServerRefusal:
            return [FileSyncError.Code.queueFull.rawValue, FileSyncError.Code.serverBusy.rawValue].contains(
                refusal.error.code)
        case BackupFailure.noServer:
            return true
        case is BackupFailure, is CancellationError:
            return false
        default:
            // NIO connection and socket errors: refused, reset, closed, connect timeout.
            return error is ChannelError || error is IOError || "\(type(of: error))".contains("Connect")
        }
    }

    /// The wait before the next attempt: the server's `retryAfterSeconds` when its refusal gave one
    /// (held to 1 ... 600 s, plus up to 10% so that clients told alike do not all come back at
    /// once), else ``backoff(attempt:first:)``.
    static func delay(after error: any Error, failures: Int, first: Duration) -> Duration {
        if let refusal = error as? ServerRefusal, let hint = refusal.error.retryAfterSeconds {
            let seconds = Double(ErrorMessage.boundedRetry(hint))
            return .milliseconds(Int(seconds * Double.random(in: 1.0...1.1) * 1000))
        }
        return backoff(attempt: failures, first: first)
    }

    /// Exponential backoff from `first`, doubling per attempt, capped at 60 s, with ±25% jitter.
    static func backoff(attempt: Int, first: Duration = .seconds(1)) -> Duration {
        let base = min(60.0, first.inSeconds * pow(2.0, Double(attempt - 1)))
        return .milliseconds(Int(base * Double.random(in: 0.75...1.25) * 1000))
    }
}
