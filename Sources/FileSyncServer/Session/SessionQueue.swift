import FileSyncCore
import FileSyncSystem

/// Admits backup sessions one at a time, first come first served, across all connections.
///
/// Wraps ``QueueStateMachine``: a waiting session suspends in ``waitForTurn(_:onPositionChange:)``
/// and is resumed when the session ahead of it leaves, for whatever reason.
actor SessionQueue {
    private var machine: QueueStateMachine
    private var waiters: [QueueStateMachine.Ticket: CheckedContinuation<Void, any Error>] = [:]
    private var observers: [QueueStateMachine.Ticket: @Sendable (Int) -> Void] = [:]
    /// When the active session got its turn, and how long turns took (the latest weigh most): what
    /// ``retryHint(now:)`` estimates from.
    private var activeSince: ContinuousClock.Instant?
    private var averageTurn: Duration?

    init(maxWaiting: Int) {
        machine = QueueStateMachine(maxWaiting: maxWaiting)
    }

    /// Takes a place in line.
    func enqueue() -> QueueStateMachine.Admission {
        let admission = machine.enqueue()
        if case .start = admission { activeSince = .now }
        return admission
    }

    /// Seconds after which a client refused for a full queue may find a place: one frees when the
    /// active session ends, expected after the average turn so far (30 s before any has ended),
    /// but not sooner than 5 s from now; within ``ErrorMessage/retryAfterRange``.
    func retryHint(now: ContinuousClock.Instant = .now) -> Int {
        let elapsed = activeSince.map { now - $0 } ?? .zero
        let remaining = max((averageTurn ?? .seconds(30)) - elapsed, .seconds(5))
        return ErrorMessage.boundedRetry(Int(remaining.inSeconds.rounded(.up)))
    }

    /// Suspends until `ticket` becomes active. `onPositionChange` is called with each new position.
    /// Throws `CancellationError` if the ticket leaves (its connection closed) before its turn.
    func waitForTurn(
        _ ticket: QueueStateMachine.Ticket, onPositionChange: @escaping @Sendable (Int) -> Void
    ) async throws {
        guard let position = machine.position(of: ticket) else { throw CancellationError() }
        if position == 0 { return }
        observers[ticket] = onPositionChange
        try await withCheckedThrowingContinuation { continuation in
            waiters[ticket] = continuation
        }
    }

    /// The current position of `ticket` (0 when active).
    func position(of ticket: QueueStateMachine.Ticket) -> Int? {
        machine.position(of: ticket)
    }

    /// Releases `ticket` while it waits for its turn; once active, it is kept (the session releases
    /// it when its work is done, which may go on after its connection closed).
    func leaveIfWaiting(_ ticket: QueueStateMachine.Ticket) {
        guard let position = machine.position(of: ticket), position > 0 else { return }
        leave(ticket)
    }

    /// Releases `ticket`, active or waiting, and wakes whoever is next. Safe to call twice.
    func leave(_ ticket: QueueStateMachine.Ticket) {
        let wasActive = machine.position(of: ticket) == 0
        if wasActive, let started = activeSince {
            let turn = ContinuousClock.now - started
            averageTurn = averageTurn.map { ($0 * 3 + turn) / 4 } ?? turn
            activeSince = nil
        }
        let departure = machine.leave(ticket)
        if departure.promoted != nil { activeSince = .now }
        observers[ticket] = nil
        waiters.removeValue(forKey: ticket)?.resume(throwing: CancellationError())
        if let promoted = departure.promoted {
            observers[promoted] = nil
            waiters.removeValue(forKey: promoted)?.resume()
        }
        for (other, position) in departure.moved { observers[other]?(position) }
        // Nobody is next: the server goes idle, so it need not keep the session's buffers.
        if wasActive && departure.promoted == nil { HeapTuning.releaseFreedMemory() }
    }
}
