import Synchronization

/// The shared side of `--watch`'s ``WatchSchedule``: the watch's events come in from one task,
/// the runs wait in another until the schedule says a run is due, woken early when an event
/// brings the due time forward (or to stop).
public final class WatchTrigger: Sendable {
    private struct State {
        var schedule: WatchSchedule
        /// The run loop, waiting.
        var waiter: CheckedContinuation<Void, Never>?
        /// A wake-up came while nothing waited: the next wait returns at once.
        var woken = false
        /// The folders changed since the last run started (everything before the first run).
        var changes = WatchChanges(full: true)
        /// Some folder is not watched: every run scans everything.
        var incomplete = false
    }

    private let state: Mutex<State>
    private let clock = ContinuousClock()

    public init(schedule: WatchSchedule) {
        state = Mutex(State(schedule: schedule))
    }

    /// When the next run is due.
    public var due: ContinuousClock.Instant { state.withLock { $0.schedule.due } }

    /// Notes a change (or a deletion) seen now, and wakes the run loop if a run is now due earlier.
    public func record(deletion: Bool) {
        let now = clock.now
        let earlier = state.withLock {
            deletion ? $0.schedule.recordDeletion(at: now) : $0.schedule.recordChange(at: now)
        }
        if earlier { wake() }
    }

    /// Notes that the entries of `folder` (an absolute path) in the watched `source` changed.
    public func note(changed folder: String, in source: String) {
        state.withLock { $0.changes.changed(folder: folder, in: source) }
    }

    /// Notes that `folder` (an absolute path) appeared in the watched `source`.
    public func note(appeared folder: String, in source: String) {
        state.withLock { $0.changes.appeared(folder: folder, in: source) }
    }

    /// The watch may have missed changes (a queue overflow, a failed run): the next run scans
    /// everything.
    public func scanEverythingNext() { state.withLock { $0.changes.scanEverything() } }

    /// Some folder is not watched (the watch limit, or no watch at all): every run scans everything.
    public func scanEverythingAlways() { state.withLock { $0.incomplete = true } }

    /// A run starts now: what was seen so far is covered by its scan. Returns what it is to scan.
    @discardableResult
    public func runStarted() -> WatchChanges {
        let now = clock.now
        return state.withLock { state in
            state.schedule.runStarted()
            var taken = state.changes
            if state.incomplete || state.schedule.fullScanDue(at: now) { taken.scanEverything() }
            if taken.isFull { state.schedule.fullScanStarted(at: now) }
            state.changes = WatchChanges(full: false)
            return taken
        }
    }

    /// A run ended now, the server asking for the next in `nextSync`.
    public func runEnded(nextSync: Duration?) {
        let now = clock.now
        state.withLock { $0.schedule.runEnded(at: now, nextSync: nextSync) }
    }

    /// A run failed now: the next waits at least `retryDelay`.
    public func runFailed(retryDelay: Duration) {
        let now = clock.now
        state.withLock { $0.schedule.runFailed(at: now, retryDelay: retryDelay) }
    }

    /// Waits until `deadline`, or until ``wake()`` is called, or the task is cancelled.
    public func sleep(until deadline: ContinuousClock.Instant) async {
        let timer = Task { [self] in
            try? await Task.sleep(until: deadline, clock: clock)
            if !Task.isCancelled { wake() }
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { (state: inout State) -> Bool in
                    if state.woken {
                        state.woken = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            wake()
        }
    }

    /// Ends the current (or the next) ``sleep(until:)``.
    public func wake() {
        let waiter = state.withLock { (state: inout State) -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.woken = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }
}
