import FileSyncCore
import NIOCore

/// The frames of a connection read in place, without a reading task: what a history session
/// uses, so that the server's file data is read only as fast as the restore writes it
/// (backpressure). The handshake reads its control messages here; ``HistoryChannel`` then hands
/// the frames to the restore as they are.
struct FrameMessages: ServerMessages {
    var frames: NIOAsyncChannelInboundStream<Frame>.AsyncIterator
    let decoder = MessageDecoder()

    mutating func nextMessage() async throws -> Message {
        guard let frame = try await frames.next() else {
            throw FileSyncError(.connectionClosed, "the server closed the connection")
        }
        let message = try decoder.decode(frame)
        if case .error(let error) = message { throw ServerRefusal(error: error) }
        return message
    }
}
