/// When `--watch` runs the next backup: the pure rules, fed with what the watch saw and when runs
/// start and end; ``due`` says when the next one is to start.
///
/// - A change (creation, write, move) is coalesced: the run starts `delay` after the first change
///   not yet covered by a run, so a storm of changes within the delay makes a single run.
/// - A deletion alone waits `deletionDelay` (longer), so that a file deleted and written again
///   (an editor's save, a rename done as delete and create) is not deleted and then sent again; a
///   run started by a change includes the deletions seen so far.
/// - A queue overflow counts as a change (and makes the run scan everything, ``WatchChanges``).
/// - A run scans only the folders that changed, but everything when it is the first or comes
///   `rescanInterval` or more after the last full scan (``fullScanDue(at:)``).
/// - With nothing seen, a run starts `rescanInterval` after the last one, or earlier when the
///   server's `NEXT_SYNC` says so: the upper bound between runs.
public struct WatchSchedule: Sendable {
    public typealias Instant = ContinuousClock.Instant

    public var delay: Duration
    public var deletionDelay: Duration
    public var rescanInterval: Duration
    /// The first change, and the first deletion, not yet covered by a run that started after them.
    private(set) var changeSince: Instant?
    private(set) var deletionSince: Instant?
    /// When the periodic full scan, and the server's `NEXT_SYNC`, call for the next run.
    private var rescanDue: Instant
    private var nextSyncDue: Instant?
    /// After a failed run, no run starts before this, whatever the watch sees.
    private var notBefore: Instant?
    /// When the last run that scanned everything started; `nil` before the first.
    private var lastFullScan: Instant?

    /// - Parameter start: when the watch starts; a run is due at once (as `--loop`'s first run).
    public init(delay: Duration, deletionDelay: Duration, rescanInterval: Duration, start: Instant) {
        self.delay = delay
        self.deletionDelay = deletionDelay
        self.rescanInterval = rescanInterval
        rescanDue = start
    }

    /// When the next run is to start.
    public var due: Instant {
        var candidates = [rescanDue]
        if let nextSyncDue { candidates.append(nextSyncDue) }
        if let changeSince { candidates.append(changeSince + delay) }
        if let deletionSince { candidates.append(deletionSince + deletionDelay) }
        let earliest = candidates.min()!
        guard let notBefore else { return earliest }
        return max(earliest, notBefore)
    }

    /// Notes a change seen at `now`; true when this makes the next run come earlier.
    public mutating func recordChange(at now: Instant) -> Bool {
        guard changeSince == nil else { return false }
        let before = due
        changeSince = now
        return due < before
    }

    /// Notes a deletion seen at `now`; true when this makes the next run come earlier.
    public mutating func recordDeletion(at now: Instant) -> Bool {
        guard deletionSince == nil else { return false }
        let before = due
        deletionSince = now
        return due < before
    }

    /// Whether a run starting at `now` is to scan everything on account of time: the first run,
    /// and any run `rescanInterval` or more after the last full scan started (so that changes
    /// coming often do not put off the periodic full scan).
    public func fullScanDue(at now: Instant) -> Bool {
        guard let lastFullScan else { return true }
        return now >= lastFullScan + rescanInterval
    }

    /// A run that scans everything started at `now`.
    public mutating func fullScanStarted(at now: Instant) { lastFullScan = now }

    /// A run starts: what was seen until now is covered by its scan.
    public mutating func runStarted() {
        changeSince = nil
        deletionSince = nil
    }

    /// A run ended at `now`; the server asked for the next one in `nextSync` (`nil` when the run
    /// failed or the server said nothing).
    public mutating func runEnded(at now: Instant, nextSync: Duration?) {
        rescanDue = now + rescanInterval
        nextSyncDue = nextSync.map { now + $0 }
        notBefore = nil
    }

    /// A run failed at `now`: the next one, whatever the watch sees, waits `retryDelay`.
    public mutating func runFailed(at now: Instant, retryDelay: Duration) {
        notBefore = now + retryDelay
        rescanDue = now + retryDelay
        nextSyncDue = nil
    }
}
