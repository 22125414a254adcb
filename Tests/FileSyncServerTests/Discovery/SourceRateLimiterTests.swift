import Testing

@testable import FileSyncServer

@Suite("Discovery rate limits")
struct SourceRateLimiterTests {
    let start = ContinuousClock.now

    @Test("one noisy source uses up its own tokens; another source is still answered")
    func perSource() {
        var limiter = SourceRateLimiter(perSource: 20, inAll: 100, now: start)
        let noisy = (0..<50).filter { _ in limiter.allow("10.0.0.1", at: start) }.count
        let other = limiter.allow("10.0.0.2", at: start)
        // A second later the noisy source has its tokens back.
        let later = limiter.allow("10.0.0.1", at: start + .seconds(1))
        #expect(noisy == 20)
        #expect(other)
        #expect(later)
    }

    @Test("all sources together stay under the overall limit")
    func overall() {
        var limiter = SourceRateLimiter(perSource: 20, inAll: 30, now: start)
        let answered = (0..<10).map { source in
            (0..<20).filter { _ in limiter.allow("10.0.0.\(source)", at: start) }.count
        }
        #expect(answered.reduce(0, +) == 30)
    }

    @Test("the table of sources is bounded; idle sources are forgotten to make room")
    func bounded() {
        var limiter = SourceRateLimiter(perSource: 1, inAll: 1_000_000, now: start)
        let first = (0..<SourceRateLimiter.maxSources).filter { limiter.allow("s\($0)", at: start) }.count
        let crowded = limiter.allow("newcomer", at: start)
        let later = limiter.allow("newcomer", at: start + .seconds(2))
        #expect(first == SourceRateLimiter.maxSources)
        #expect(!crowded, "the table is full of sources active this second")
        #expect(later, "idle sources are dropped")
    }
}
