import FileSyncCore
import FileSyncServer
import TestSupport
import Testing

@Suite("Session queue state machine")
struct QueueStateMachineTests {
    @Test("the first session starts, the next ones wait in order")
    func fifo() {
        var queue = QueueStateMachine()
        guard case .start(let a) = queue.enqueue() else { Issue.record("first must start"); return }
        guard case .wait(let b, 1) = queue.enqueue(), case .wait(let c, 2) = queue.enqueue() else {
            Issue.record("expected positions 1 and 2")
            return
        }
        #expect(queue.active == a)
        let departure = queue.leave(a)
        #expect(departure.promoted == b)
        #expect(departure.moved == [c: 1])
        #expect(queue.active == b)
        #expect(queue.position(of: c) == 1)
    }

    @Test("exactly one session is active however arrivals and departures interleave")
    func neverTwoActive() {
        var queue = QueueStateMachine(maxWaiting: 100)
        var generator = SeededGenerator(seed: 3)
        var live: [QueueStateMachine.Ticket] = []
        var order: [QueueStateMachine.Ticket] = []
        for _ in 0..<1000 {
            if live.isEmpty || Bool.random(using: &generator) {
                switch queue.enqueue() {
                case .start(let t): live.append(t); order.append(t)
                case .wait(let t, let position):
                    #expect(position == queue.waiting.count)
                    live.append(t)
                case .rejected: break
                }
            } else {
                let t = live.remove(at: Int.random(in: 0..<live.count, using: &generator))
                let departure = queue.leave(t)
                if let promoted = departure.promoted { order.append(promoted) }
            }
            #expect((queue.active == nil) == live.isEmpty)
            #expect(queue.waiting.count == max(0, live.count - 1))
        }
        #expect(order == order.sorted())
    }

    @Test("a waiting session that leaves moves those behind it up")
    func leaveWhileWaiting() {
        var queue = QueueStateMachine()
        _ = queue.enqueue()
        guard case .wait(let b, 1) = queue.enqueue(), case .wait(let c, 2) = queue.enqueue(),
            case .wait(let d, 3) = queue.enqueue()
        else { Issue.record("expected three waiting"); return }
        let departure = queue.leave(b)
        #expect(departure.promoted == nil)
        #expect(departure.moved == [c: 1, d: 2])
        let again = queue.leave(b)
        #expect(again.promoted == nil && again.moved.isEmpty)
    }

    @Test("a full queue rejects newcomers")
    func full() {
        var queue = QueueStateMachine(maxWaiting: 2)
        _ = queue.enqueue()
        _ = queue.enqueue()
        _ = queue.enqueue()
        #expect(queue.enqueue() == .rejected)
    }
}
