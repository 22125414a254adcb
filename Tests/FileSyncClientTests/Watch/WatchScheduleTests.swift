import FileSyncClient
import Testing

@Suite("Watch schedule")
struct WatchScheduleTests {
    let start = ContinuousClock.now

    func schedule() -> WatchSchedule {
        WatchSchedule(delay: .seconds(10), deletionDelay: .seconds(60), rescanInterval: .seconds(3600), start: start)
    }

    @Test("the first run is due at the start; then the rescan interval or NEXT_SYNC, whichever is first")
    func upperBound() {
        var schedule = schedule()
        #expect(schedule.due == start)
        schedule.runStarted()
        schedule.runEnded(at: start + .seconds(1), nextSync: nil)
        #expect(schedule.due == start + .seconds(3601))
        schedule.runStarted()
        schedule.runEnded(at: start + .seconds(2), nextSync: .seconds(900))
        #expect(schedule.due == start + .seconds(902))
        schedule.runStarted()
        schedule.runEnded(at: start + .seconds(3), nextSync: .seconds(7200))
        #expect(schedule.due == start + .seconds(3603))
    }

    @Test("changes are coalesced from the first one: a storm makes one run")
    func coalescing() {
        var schedule = schedule()
        schedule.runStarted()
        schedule.runEnded(at: start, nextSync: nil)
        let earlier1 = schedule.recordChange(at: start + .seconds(5))
        #expect(earlier1)
        for second in 6..<15 {
            let earlier = schedule.recordChange(at: start + .seconds(second))
            #expect(!earlier)
        }
        #expect(schedule.due == start + .seconds(15))
        schedule.runStarted()
        // A change during the run calls for another run after it.
        let earlier2 = schedule.recordChange(at: start + .seconds(16))
        #expect(earlier2)
        schedule.runEnded(at: start + .seconds(17), nextSync: nil)
        #expect(schedule.due == start + .seconds(26))
    }

    @Test("a deletion alone waits longer; a change brings the run forward and covers it")
    func deletionsWait() {
        var schedule = schedule()
        schedule.runStarted()
        schedule.runEnded(at: start, nextSync: nil)
        let earlier3 = schedule.recordDeletion(at: start + .seconds(1))
        #expect(earlier3)
        #expect(schedule.due == start + .seconds(61))
        let earlier4 = schedule.recordChange(at: start + .seconds(2))
        #expect(earlier4)
        #expect(schedule.due == start + .seconds(12))
        schedule.runStarted()
        schedule.runEnded(at: start + .seconds(13), nextSync: nil)
        #expect(schedule.due == start + .seconds(3613))
    }

    @Test("after a failed run, changes do not bring the retry forward")
    func failureHoldsOff() {
        var schedule = schedule()
        schedule.runStarted()
        schedule.runFailed(at: start, retryDelay: .seconds(60))
        #expect(schedule.due == start + .seconds(60))
        let earlier5 = schedule.recordChange(at: start + .seconds(1))
        #expect(!earlier5)
        #expect(schedule.due == start + .seconds(60))
        schedule.runStarted()
        schedule.runEnded(at: start + .seconds(61), nextSync: nil)
        #expect(schedule.due == start + .seconds(3661))
    }
}
