import FileSyncCore

/// Admits backup sessions one at a time, first come first served, across all connections.
///
/// Wraps ``QueueStateMachine``: a waiting session suspends in ``waitForTurn(_:onPositionChange:)``
/// and is resumed when the session ahead of it leaves, for whatever reason.
actor SessionQueue {
    private var machine: QueueStateMachine
    private var waiters: [QueueStateMachine.Ticket: CheckedContinuation<Void, any Error>] = [:]
    private var observers: [QueueStateMachine.Ticket: @Sendable (Int) -> Void] = [:]

    init(maxWaiting: Int) {
        machine = QueueStateMachine(maxWaiting: maxWaiting)
    }

    /// Takes a place in line.
    func enqueue() -> QueueStateMachine.Admission {
        machine.enqueue()
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
        let departure = machine.leave(ticket)
        observers[ticket] = nil
        waiters.removeValue(forKey: ticket)?.resume(throwing: CancellationError())
        if let promoted = departure.promoted {
            observers[promoted] = nil
            waiters.removeValue(forKey: promoted)?.resume()
        }
        for (other, position) in departure.moved { observers[other]?(position) }
    }
}
