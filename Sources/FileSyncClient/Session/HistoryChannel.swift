import FileSyncCore
import NIOCore

/// A ``RestoreChannel`` over the live connection of a `"snapshots"` or `"restore"` session after
/// `READY`: frames go out through the connection's writer (which waits while the socket is full)
/// and come in as the server sent them.
final class HistoryChannel: RestoreChannel {
    private var inbound: FrameMessages
    private let outbound: NIOAsyncChannelOutboundWriter<Frame>

    init(inbound: FrameMessages, outbound: NIOAsyncChannelOutboundWriter<Frame>) {
        self.inbound = inbound
        self.outbound = outbound
    }

    func send(_ frames: [Frame]) async throws {
        try await outbound.write(contentsOf: frames)
    }

    func receive() async throws -> Frame? {
        try await inbound.frames.next()
    }
}
