import FileSyncClient
import FileSyncCore
import Logging
import ServiceLifecycle

/// `--loop`: backs up, then again when the server's `NEXT_SYNC` says, or every `--schedule` when
/// given (after a failure, later each time, up to an hour), as a `Service` run by a
/// `ServiceGroup`. On SIGTERM or SIGINT the wait ends
/// at once and no backup starts; one in progress may finish within the group's graceful phase, after
/// which it is cancelled (the server keeps what it verified, and the next run resumes).
struct BackupLoop: Service {
    let client: BackupClient
    let logger: Logger
    /// `--schedule`: the time between backups, instead of the server's `NEXT_SYNC`.
    var every: Duration? = nil
    /// Prints a finished backup's summary.
    let report: @Sendable (BackupSummary) -> Void

    func run() async throws {
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let delay: Duration
            do {
                var summary = try await client.run()
                if let every { summary.nextSyncSeconds = Int(every.inSeconds) }
                report(summary)
                failures = 0
                delay = .seconds(summary.nextSyncSeconds ?? 3600)
            } catch {
                // A backup cut by the end of the graceful phase is no failure to retry.
                if Task.isCancelled { return }
                failures += 1
                ClientCommand.fail("\(ClientCommand.classify(error).1); trying again later")
                delay = Self.retryDelay(afterFailures: failures)
            }
            if Task.isShuttingDownGracefully { return }
            logger.info("next backup scheduled", metadata: ["in": "\(DurationParser.format(Int(delay.inSeconds)))"])
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            } catch {
                return
            }
        }
    }

    /// The wait after `failures` failed runs in a row: 1, 2, 4 … minutes, at most an hour.
    static func retryDelay(afterFailures failures: Int) -> Duration {
        .seconds(min(3600, 30 * (1 << min(failures, 7))))
    }

    /// Runs `loop` until it ends or a signal ends it: SIGTERM and SIGINT start a graceful phase of
    /// at most `grace`, then what still runs is cancelled.
    static func serve(_ loop: BackupLoop, grace: Duration = .seconds(5)) async throws {
        var configuration = ServiceGroupConfiguration(
            services: [loop], gracefulShutdownSignals: [.sigterm, .sigint], logger: loop.logger)
        configuration.maximumGracefulShutdownDuration = grace
        try await ServiceGroup(configuration: configuration).run()
    }
}
