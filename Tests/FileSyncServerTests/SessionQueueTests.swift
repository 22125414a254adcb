import FileSyncCore
import Testing

@testable import FileSyncServer

@Suite("Session queue") struct SessionQueueTests {
    @Test("a closed connection releases a waiting ticket, but not the active one, which its session releases")
    func leaveIfWaiting() async throws {
        let queue = SessionQueue(maxWaiting: 4)
        guard case .start(let active) = await queue.enqueue(),
            case .wait(let second, 1) = await queue.enqueue(),
            case .wait(let third, 2) = await queue.enqueue()
        else {
            Issue.record("the first ticket must start, the next two wait at positions 1 and 2")
            return
        }

        // The active session's connection closed; it may still be cataloging: it keeps its turn.
        await queue.leaveIfWaiting(active)
        #expect(await queue.position(of: active) == 0)
        #expect(await queue.position(of: second) == 1)

        // A waiting client hung up: it leaves, and the one behind it moves up.
        await queue.leaveIfWaiting(second)
        #expect(await queue.position(of: second) == nil)
        #expect(await queue.position(of: third) == 1)

        // The session is done: the next one gets its turn.
        await queue.leave(active)
        #expect(await queue.position(of: third) == 0)
    }
}

extension SessionQueueTests {
    @Test("the hint for a full queue: what is left of the expected turn (30 s before any has ended), at least 5 s")
    func retryHint() async {
        let queue = SessionQueue(maxWaiting: 1)
        #expect(await queue.retryHint() == 30)
        guard case .start(let first) = await queue.enqueue() else {
            Issue.record("the first ticket must start")
            return
        }
        let now = ContinuousClock.now
        #expect(await queue.retryHint(now: now + .seconds(10)) == 20)
        #expect(await queue.retryHint(now: now + .seconds(100)) == 5)
        // A turn that took next to nothing: the next is expected to be as short, so the floor.
        await queue.leave(first)
        #expect(await queue.retryHint() == 5)
    }
}
