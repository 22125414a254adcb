import ArgumentParser
import FileSyncClient
import FileSyncCore

/// The options of `--watch`, declared apart from the backup's own.
struct WatchOptions: ParsableArguments {
    @Flag(help: "Keep running and back up soon after files change (inotify), and at least every --rescan-interval.")
    var watch = false
    @Option(help: "With --watch: wait this long after the first change before backing up (changes meanwhile join).")
    var watchDelay = "10s"
    @Option(help: "With --watch: wait this long after a deletion alone before backing up.")
    var watchDeleteDelay = "60s"
    @Option(help: "With --watch: back up (a full scan) at least this often, even when nothing was seen to change.")
    var rescanInterval = "1h"

    func validate() throws {
        for (flag, value) in [
            ("--watch-delay", watchDelay), ("--watch-delete-delay", watchDeleteDelay),
            ("--rescan-interval", rescanInterval),
        ] {
            guard let duration = try? DurationParser.duration(from: value), duration > .zero else {
                throw ValidationError("\(flag) takes a duration, e.g. 10s, 5m or 1h")
            }
        }
    }

    /// The schedule these options describe, starting now.
    func schedule() throws -> WatchSchedule {
        WatchSchedule(
            delay: try DurationParser.duration(from: watchDelay),
            deletionDelay: try DurationParser.duration(from: watchDeleteDelay),
            rescanInterval: try DurationParser.duration(from: rescanInterval), start: ContinuousClock.now)
    }
}
