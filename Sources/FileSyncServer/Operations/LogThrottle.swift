import Synchronization

/// Lets a message about one address through at most once per ``interval``, counting what it held
/// back (said with the next one let through): a client retrying with a wrong secret every few
/// seconds gives one log line a minute, not thousands. At most 1,024 addresses are tracked.
public final class LogThrottle: Sendable {
    struct Entry {
        var last: ContinuousClock.Instant
        var suppressed: Int
    }

    let interval: Duration
    private let entries = Mutex<[String: Entry]>([:])

    public init(interval: Duration = .seconds(60)) {
        self.interval = interval
    }

    /// `nil` when a message about `key` was let through less than ``interval`` ago; otherwise how
    /// many were held back since the last one.
    public func allow(_ key: String, now: ContinuousClock.Instant = .now) -> Int? {
        entries.withLock { entries in
            if let entry = entries[key], now - entry.last < interval {
                entries[key]?.suppressed += 1
                return nil
            }
            if entries.count >= 1_024 { entries = entries.filter { now - $0.value.last < interval } }
            let held = entries[key]?.suppressed ?? 0
            if entries.count < 1_024 { entries[key] = Entry(last: now, suppressed: 0) }
            return held
        }
    }
}
