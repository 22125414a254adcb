import FileSyncCore
import NIOCore

/// Restore frames straight onto the connection, with at most ``window`` writes not yet on the
/// socket: `write` waits for the oldest while the client is slow to read.
///
/// The async channel's writer stops a producer only once the event loop has seen the channel
/// become unwritable; a sender that reads stored files faster than the loop encrypts could queue
/// tens of MiB of frames before that. Waiting on the writes themselves bounds what a restore holds
/// to a few batches, whatever the speeds. Frames are written in order on the channel's event loop,
/// as those of the async writer are (both go through it in the order they are issued); a failed
/// write fails the batch's wait.
final class ChannelFrameSink: FrameSink {
    let channel: any Channel
    /// Batches (about 1 MiB each) that may be in flight at once.
    static let window = 3
    private var pending: [EventLoopFuture<Void>] = []

    init(channel: any Channel) {
        self.channel = channel
    }

    func write(_ frames: [Frame]) async throws {
        guard !frames.isEmpty else { return }
        let written = frames.map { channel.write($0) }
        channel.flush()
        pending.append(EventLoopFuture.andAllSucceed(written, on: channel.eventLoop))
        while pending.count > Self.window { try await wait(for: pending.removeFirst()) }
    }

    func finish() async throws {
        while !pending.isEmpty { try await wait(for: pending.removeFirst()) }
    }

    /// Waits for `write`; a cancelled task (the server stopping) closes the connection, which
    /// fails the write, rather than waiting for a client that stopped reading.
    private func wait(for write: EventLoopFuture<Void>) async throws {
        let channel = self.channel
        try await withTaskCancellationHandler {
            try await write.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}
