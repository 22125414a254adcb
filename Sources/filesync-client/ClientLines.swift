import FileSyncSystem
import Foundation
import Logging
import Synchronization

/// The client's own lines on standard error (warnings, failed files, what a stopped run kept), in
/// the format of its log: `filesync-client: message` as text (what people read, and cron mails), one
/// log object at level `error` with `--log-format json`, so that every line is one object.
enum ClientLines {
    /// The format the log was set up with; text until then.
    private static let format = Mutex(LineLogHandler.Format.text)

    /// Sets up the log in `format` at `level`, and these lines with it.
    static func bootstrap(format chosen: LineLogHandler.Format, level: Logger.Level) {
        format.withLock { $0 = chosen }
        LineLogHandler.bootstrap(format: chosen, level: level)
    }

    /// Writes `message` as one of the client's own lines.
    static func say(_ message: String) {
        let line =
            format.withLock { $0 } == .json
            ? LineLogHandler.line(
                format: .json, time: Date(), level: .error, label: "filesync-client", message: message, metadata: [:])
            : "filesync-client: \(message)"
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
