import Dispatch
import FileSyncClient
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// SIGTERM and SIGINT during a backup: one line on what the server keeps, then exit 128 + the
/// signal's number (143, 130), as a shell reports a process its signal ended.
///
/// Ending at once is what a signal asks for: the server keeps the file in progress as a partial
/// and offers it on the next run (Protocol.md §6.4), and files not yet acknowledged go again.
final class StopSignals {
    private let sources: [any DispatchSourceSignal]

    /// - Parameter report: the line to print, read when the signal arrives.
    init(report: @escaping @Sendable () -> String) {
        sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                ClientCommand.fail(report())
                fflush(nil)
                _exit(128 + number)
            }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }

    /// The counters of the run in progress (a new one for each run of `--loop`).
    final class CurrentRun: Sendable {
        private let stats = Mutex(TransferStats())

        /// Fresh counters for the run about to start.
        func begin() -> TransferStats {
            let fresh = TransferStats()
            stats.withLock { $0 = fresh }
            return fresh
        }

        var stopReport: String { stats.withLock { $0.stopReport } }
    }
}
