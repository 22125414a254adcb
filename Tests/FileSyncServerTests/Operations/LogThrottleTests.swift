import Testing

@testable import FileSyncServer

@Suite("Log throttle")
struct LogThrottleTests {
    @Test("one message per address per interval, the held-back ones counted with the next")
    func throttles() {
        let throttle = LogThrottle(interval: .seconds(60))
        let start = ContinuousClock.now
        #expect(throttle.allow("10.0.0.1", now: start) == 0)
        #expect(throttle.allow("10.0.0.1", now: start + .seconds(1)) == nil)
        #expect(throttle.allow("10.0.0.1", now: start + .seconds(2)) == nil)
        #expect(throttle.allow("10.0.0.2", now: start + .seconds(2)) == 0)
        #expect(throttle.allow("10.0.0.1", now: start + .seconds(61)) == 2)
    }
}
