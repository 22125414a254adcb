import FileSyncCore
import Logging
import NIOCore
import ServiceLifecycle

extension BackupSession {
    /// Takes a place in the queue and, if another client is active, waits for the turn while
    /// sending `QUEUED` at each change of position and every keepalive interval.
    func waitForTurn(_ context: inout SessionContext) async throws {
        let joined = ContinuousClock.now
        guard let ticket = try await admit(&context) else { return }
        let queue = self.queue
        connection.channel.closeFuture.whenComplete { _ in Task { await queue.leaveIfWaiting(ticket) } }
        try await setReadTimeout(nil)

        let keepalive = Int(settings.keepaliveInterval.nanoseconds / 1_000_000_000)
        let (positions, continuation) = AsyncStream.makeStream(of: Int.self)
        let outbound = context.outbound
        let sender = Task {
            let encoder = ControlMessageEncoder()
            for await position in positions where position > 0 {
                let message = Message.queued(Queued(position: position, keepaliveSeconds: keepalive))
                guard let frame = try? encoder.frame(message) else { continue }
                try? await outbound.write(frame)
            }
        }
        let interval = settings.keepaliveInterval
        let ticker = Task {
            while !Task.isCancelled {
                guard let position = await queue.position(of: ticket), position > 0 else { return }
                continuation.yield(position)
                try? await Task.sleep(for: .nanoseconds(interval.nanoseconds))
            }
        }
        defer {
            ticker.cancel()
            continuation.finish()
        }
        do {
            // A stopping server sends the waiting clients away, to come back later.
            try await withGracefulShutdownHandler {
                try await queue.waitForTurn(ticket) { position in continuation.yield(position) }
            } onGracefulShutdown: {
                Task { await queue.leaveIfWaiting(ticket) }
            }
        } catch is CancellationError where Task.isShuttingDownGracefully {
            throw FileSyncError.serverStopping
        }
        ticker.cancel()
        continuation.finish()
        await sender.value
        operations.live.activated(ticket.number)
        context.record.secondsQueued = (ContinuousClock.now - joined).inSeconds
    }

    /// Takes a ticket: `nil` when the turn is the session's at once, the ticket to wait with otherwise.
    private func admit(_ context: inout SessionContext) async throws -> QueueStateMachine.Ticket? {
        switch await queue.enqueue() {
        case .rejected:
            let hint = await queue.retryHint()
            throw FileSyncError(.queueFull, "\(settings.maxWaitingClients) clients are waiting already; try later")
                .retrying(after: hint)
        case .start(let active):
            context.ticket = active
            join(active, &context)
            operations.live.activated(active.number)
            return nil
        case .wait(let waiting, let position):
            context.ticket = waiting
            join(waiting, &context)
            // The e2e tests look for this text in the log.
            context.logger.info("session queued", metadata: ["position": "\(position)"])
            return waiting
        }
    }

    /// Shows the session in the live state (`status`, the status page) from its place in line on.
    private func join(_ ticket: QueueStateMachine.Ticket, _ context: inout SessionContext) {
        operations.live.joined(
            ticket.number, clientId: context.record.clientId, kind: context.record.kind.rawValue, wire: wire)
        context.liveEntry = ticket.number
    }
}
