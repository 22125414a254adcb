/// A token bucket refilled continuously: `perSecond` tokens a second, at most `perSecond` held.
struct RateLimiter: Sendable {
    let perSecond: Int
    private var tokens: Double
    private(set) var last: ContinuousClock.Instant

    init(perSecond: Int, now: ContinuousClock.Instant = .now) {
        self.perSecond = perSecond
        self.tokens = Double(perSecond)
        self.last = now
    }

    /// Takes a token if there is one.
    mutating func allow(at now: ContinuousClock.Instant = .now) -> Bool {
        let elapsed = max(0, (now - last).inSeconds)
        last = now
        tokens = min(Double(perSecond), tokens + elapsed * Double(perSecond))
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// A token bucket per source address, under one for all sources together: one noisy host uses up
/// its own tokens, not the others'. At most ``maxSources`` are tracked; a bucket idle for a second
/// is full again and is forgotten first when the table is full, and a new source finding the table
/// still full is refused (a flood from many addresses cannot grow it without bound).
struct SourceRateLimiter: Sendable {
    static let maxSources = 1_024

    private var all: RateLimiter
    private var sources: [String: RateLimiter] = [:]
    private let perSource: Int

    init(perSource: Int, inAll: Int, now: ContinuousClock.Instant = .now) {
        self.perSource = perSource
        all = RateLimiter(perSecond: inAll, now: now)
    }

    /// Whether a reply to `source` may go now.
    mutating func allow(_ source: String, at now: ContinuousClock.Instant = .now) -> Bool {
        if sources[source] == nil {
            if sources.count >= Self.maxSources {
                sources = sources.filter { now - $0.value.last < .seconds(1) }
                guard sources.count < Self.maxSources else { return false }
            }
            sources[source] = RateLimiter(perSecond: perSource, now: now)
        }
        guard sources[source]!.allow(at: now) else { return false }
        return all.allow(at: now)
    }
}
