import FileSyncClient
import FileSyncCore
import FileSyncSystem
import Logging
import ServiceLifecycle

/// `--watch`: backs up at the start, then soon after files change (inotify on every folder of the
/// source, coalesced by ``WatchSchedule``), and at least every `--rescan-interval` or when the
/// server's `NEXT_SYNC` says, whichever comes first. A `Service` in the same `ServiceGroup` style
/// as ``BackupLoop``: SIGTERM and SIGINT end the wait at once, a run in progress may finish within
/// the graceful phase.
///
/// A run started by the watch lists again only the folders the watch saw change (and walks those
/// that appeared), reusing the last scan for the rest (``ScanMemory``); the first run, the run
/// after a queue overflow or a failure, every run once a folder is not watched (the watch limit),
/// and one at least every `--rescan-interval` scan everything.
struct WatchLoop: Service {
    let client: BackupClient
    let logger: Logger
    let schedule: WatchSchedule
    /// `--schedule`: the longest time between backups, instead of the server's `NEXT_SYNC`.
    var every: Duration? = nil
    /// Prints a finished backup's summary.
    let report: @Sendable (BackupSummary) -> Void

    func run() async throws {
        let format = { (duration: Duration) in DurationParser.format(Int(duration.inSeconds.rounded(.up))) }
        logger.info(
            "watch mode",
            metadata: [
                "delay": "\(format(schedule.delay))", "deleteDelay": "\(format(schedule.deletionDelay))",
                "rescanInterval": "\(format(schedule.rescanInterval))",
            ])
        let trigger = WatchTrigger(schedule: schedule)
        var watchers: [(root: String, watcher: FolderWatcher)] = []
        for root in watchedRoots {
            if let watcher = await startWatching(root.path, rules: root.rules) {
                watchers.append((root.path, watcher))
            } else {
                trigger.scanEverythingAlways()
            }
        }
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for (root, watcher) in watchers {
                    tasks.addTask { [self] in await follow(watcher.events, of: root, trigger: trigger) }
                }
                try await runs(trigger: trigger)
                for (_, watcher) in watchers { watcher.stop() }
                tasks.cancelAll()
            }
        } onGracefulShutdown: {
            trigger.wake()
        }
    }

    /// The folders to watch: the source, or each of several sources (whose root rules apply to
    /// the client's folder as a whole, so their folders are all watched).
    private var watchedRoots: [(path: String, rules: IgnoreRules?)] {
        if let sources = client.options.sources { return sources.members.map { ($0.path, nil) } }
        return [(client.options.source, client.options.exclusion.rootRules)]
    }

    /// The watch of `root`, or `nil` (then runs come from the rescan interval alone) when the
    /// system cannot give one. Adding a watch to every folder walks the tree: on the storage
    /// executor, not the cooperative pool.
    private func startWatching(_ root: String, rules: IgnoreRules?) async -> FolderWatcher? {
        do {
            // Folders the root rules (--exclude, --exclude-from) leave out are not watched: a change
            // there calls for no backup, and a node_modules would spend thousands of watches.
            let matcher = rules.map { IgnoreMatcher(rootRules: $0) }
            let watcher = try await StorageExecutor.shared.run {
                try FolderWatcher(root: root) { matcher?.isExcluded($0, isFolder: true) ?? false }
            }
            logger.info("watching for changes", metadata: ["source": "\(root)"])
            return watcher
        } catch {
            ClientCommand.fail(
                "warning: \(ClientCommand.classify(error).1); backing up every \(DurationParser.format(Int(schedule.rescanInterval.inSeconds))) instead"
            )
            return nil
        }
    }

    /// Runs a backup each time one is due, until the graceful shutdown.
    private func runs(trigger: WatchTrigger) async throws {
        var failures = 0
        let memory = ScanMemory()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            while ContinuousClock.now < trigger.due && !Task.isShuttingDownGracefully && !Task.isCancelled {
                await trigger.sleep(until: trigger.due)
            }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            let changes = trigger.runStarted()
            do {
                let summary = try await client.run(memory: memory, changes: changes)
                report(summary)
                failures = 0
                trigger.runEnded(nextSync: every ?? summary.nextSyncSeconds.map { Duration.seconds($0) })
            } catch {
                // A backup cut by the end of the graceful phase is no failure to retry.
                if Task.isCancelled { return }
                failures += 1
                trigger.scanEverythingNext()
                ClientCommand.fail("\(ClientCommand.classify(error).1); trying again later")
                trigger.runFailed(retryDelay: BackupLoop.retryDelay(afterFailures: failures))
            }
            let wait = Int((trigger.due - ContinuousClock.now).inSeconds.rounded(.up))
            logger.info(
                "next backup when files change, or at the latest",
                metadata: ["in": "\(DurationParser.format(max(1, wait)))"])
        }
    }

    /// Feeds the events of the watch of `root` to the trigger until the watch stops.
    private func follow(_ events: AsyncStream<FolderWatcher.Event>, of root: String, trigger: WatchTrigger) async {
        for await event in events {
            switch event {
            case .changed(let folder):
                logger.debug("change seen", metadata: ["folder": "\(folder)"])
                trigger.note(changed: folder, in: root)
                trigger.record(deletion: false)
            case .appeared(let folder):
                logger.debug("new folder seen", metadata: ["folder": "\(folder)"])
                trigger.note(appeared: folder, in: root)
                trigger.record(deletion: false)
            case .deleted(let folder):
                logger.debug("deletion seen", metadata: ["folder": "\(folder)"])
                trigger.note(changed: folder, in: root)
                trigger.record(deletion: true)
            case .overflow:
                logger.info("the kernel dropped change events (queue overflow): the next run scans everything")
                trigger.scanEverythingNext()
                trigger.record(deletion: false)
            case .limitReached(let watched, let needed):
                trigger.scanEverythingAlways()
                ClientCommand.fail(limitMessage(watched: watched, needed: needed))
            }
        }
    }

    /// Said once when the kernel's watch limit is reached.
    private func limitMessage(watched: Int, needed: Int) -> String {
        let interval = DurationParser.format(Int(schedule.rescanInterval.inSeconds))
        var message =
            "warning: the inotify watch limit is reached: \(watched) of the \(needed) folders of "
            + "\(client.options.source) are watched; changes in the others are found by a full scan every \(interval) "
            + "(--rescan-interval). To watch them all, raise the sysctl fs.inotify.max_user_watches by at least "
            + "\(needed - watched)"
        if let limit = FolderWatcher.watchLimit {
            message += " (it is \(limit)): sysctl fs.inotify.max_user_watches=\(limit + needed - watched)"
        }
        return message
    }

    /// Runs `loop` until it ends or a signal ends it: SIGTERM and SIGINT start a graceful phase of
    /// at most `grace`, then what still runs is cancelled.
    static func serve(_ loop: WatchLoop, grace: Duration = .seconds(5)) async throws {
        var configuration = ServiceGroupConfiguration(
            services: [loop], gracefulShutdownSignals: [.sigterm, .sigint], logger: loop.logger)
        configuration.maximumGracefulShutdownDuration = grace
        try await ServiceGroup(configuration: configuration).run()
    }
}
