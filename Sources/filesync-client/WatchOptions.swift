import ArgumentParser
import FileSyncClient
import FileSyncCore

/// The options of `--watch`, declared apart from the backup's own.
struct WatchOptions: ParsableArguments {
    @Flag(help: "Keep running and back up soon after files change (inotify), and at least every --rescan-interval.")
    var watch = false
    // Optional, so that a profile's value applies when the flag is not given.
    @Option(
        help:
            "With --watch: wait this long after the first change before backing up (changes meanwhile join). Default: 10s."
    )
    var watchDelay: String?
    @Option(help: "With --watch: wait this long after a deletion alone before backing up. Default: 60s.")
    var watchDeleteDelay: String?
    @Option(
        help:
            "With --watch: back up (a full scan) at least this often, even when nothing was seen to change. Default: 1h."
    )
    var rescanInterval: String?

    func validate() throws {
        for (flag, value) in [
            ("--watch-delay", watchDelay), ("--watch-delete-delay", watchDeleteDelay),
            ("--rescan-interval", rescanInterval),
        ] {
            guard let value else { continue }
            guard let duration = try? DurationParser.duration(from: value), duration > .zero else {
                throw ValidationError("\(flag) takes a duration, e.g. 10s, 5m or 1h")
            }
        }
    }

    /// The schedule these options describe, starting now.
    func schedule() throws -> WatchSchedule {
        WatchSchedule(
            delay: try DurationParser.duration(from: watchDelay ?? "10s"),
            deletionDelay: try DurationParser.duration(from: watchDeleteDelay ?? "60s"),
            rescanInterval: try DurationParser.duration(from: rescanInterval ?? "1h"), start: ContinuousClock.now)
    }
}
