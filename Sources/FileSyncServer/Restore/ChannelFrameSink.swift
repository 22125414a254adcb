import FileSyncCore
import NIOCore

/// Restore frames straight onto the connection, with at most ``window`` writes not yet on the
/// socket: `write` waits for the oldest while the client is slow to read.
///
/// The async channel's writer stops a producer only once the event loop has seen the channel
/// become unwritable; a sender that reads stored files faster than the loop encrypts could queue
/// tens of MiB of frames before that. Waiting on the writes themselves bounds what a restore holds
/// to a few batches, whatever the speeds. Frames are written in order on the channel's event loop,
/// as those of the async writer are (both go through it in the order they are issued).
final class ChannelFrameSink: FrameSink {
    let channel: any Channel
    /// Batches (about 1 MiB each) that may be in flight at once.
    static let window = 3
    private var pending: [EventLoopFuture<Void>] = []

    init(channel: any Channel) {
        self.channel = channel
    }

    func write(_ frames: [Frame]) async throws {
        guard let last = frames.last else { return }
        for frame in frames.dropLast() { channel.write(frame, promise: nil) }
        pending.append(channel.writeAndFlush(last))
        while pending.count > Self.window { try await pending.removeFirst().get() }
    }

    func finish() async throws {
        while !pending.isEmpty { try await pending.removeFirst().get() }
    }
}
