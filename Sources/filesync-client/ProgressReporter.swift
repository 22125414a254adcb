import FileSyncClient
import FileSyncCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Shows a run's progress while it runs: a live line on standard error (a terminal), redrawn at
/// most 10 times a second and cleared at the end, or restic-style `status` messages on standard
/// output (`--json-progress`), at most once a second.
final class ProgressReporter: Sendable {
    enum Style: Sendable {
        case line, json
    }

    private let task: Task<Void, Never>
    private let style: Style

    /// Starts reporting `stats` in `style`.
    init(stats: TransferStats, style: Style) {
        self.style = style
        let started = ContinuousClock.now
        task = Task {
            let interval: Duration = style == .line ? .milliseconds(100) : .seconds(1)
            var last = ""
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                let (progress, bytesDone) = stats.progress
                let elapsed = (ContinuousClock.now - started).inSeconds
                switch style {
                case .line:
                    let text = Self.line(progress, bytesDone: bytesDone, elapsed: elapsed, width: Self.width())
                    if text != last { FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8)) }
                    last = text
                case .json:
                    print(Self.status(progress, bytesDone: bytesDone, elapsed: elapsed))
                    fflush(nil)
                }
            }
        }
    }

    /// Stops reporting and clears the line.
    func finish() async {
        task.cancel()
        await task.value
        if style == .line { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    /// Whether standard error is a terminal.
    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    /// The terminal's width (80 when unknown).
    static func width() -> Int {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// `12/340 files, 1.2 GB/3.4 GB, 45.0 MB/s, ETA 1m2s  path…`, fitted to `width`.
    static func line(_ progress: TransferStats.Progress, bytesDone: Int64, elapsed: Double, width: Int) -> String {
        let bytes = SnapshotsClient.byteCount
        let rate = elapsed > 0 ? Double(bytesDone) / elapsed : 0
        var text = "\(progress.filesDone)/\(Plural.count(progress.totalFiles, "file")), "
        text += "\(bytes(bytesDone))/\(bytes(progress.totalBytes)), \(bytes(Int64(rate)))/s"
        if let remaining = remaining(progress, bytesDone: bytesDone, elapsed: elapsed) {
            text += ", ETA \(DurationParser.format(remaining))"
        }
        if let current = progress.current {
            let room = width - 1 - text.count - 2
            if room >= 8 {
                text += "  " + (current.count <= room ? current : "…" + current.suffix(room - 1))
            }
        }
        return String(text.prefix(max(0, width - 1)))
    }

    /// Seconds left at the rate so far, once there is a rate.
    static func remaining(_ progress: TransferStats.Progress, bytesDone: Int64, elapsed: Double) -> Int? {
        guard bytesDone > 0, elapsed > 0, progress.totalBytes >= bytesDone else { return nil }
        return Int((Double(progress.totalBytes - bytesDone) / (Double(bytesDone) / elapsed)).rounded())
    }

    /// One `status` message (README lists its fields).
    static func status(_ progress: TransferStats.Progress, bytesDone: Int64, elapsed: Double) -> String {
        let fraction =
            progress.totalBytes > 0
            ? Double(bytesDone) / Double(progress.totalBytes)
            : (progress.totalFiles > 0 ? Double(progress.filesDone) / Double(progress.totalFiles) : 0)
        let message = StatusMessage(
            messageType: "status", percentDone: min(1, fraction), filesDone: progress.filesDone,
            totalFiles: progress.totalFiles, bytesDone: bytesDone, totalBytes: progress.totalBytes,
            secondsElapsed: Int(elapsed), secondsRemaining: remaining(progress, bytesDone: bytesDone, elapsed: elapsed),
            currentFiles: progress.current.map { [$0] } ?? [])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(message)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// A `--json-progress` status message.
    struct StatusMessage: Encodable {
        let messageType: String
        let percentDone: Double
        let filesDone: Int
        let totalFiles: Int
        let bytesDone: Int64
        let totalBytes: Int64
        let secondsElapsed: Int
        let secondsRemaining: Int?
        let currentFiles: [String]
    }
}
