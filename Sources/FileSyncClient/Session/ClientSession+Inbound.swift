import FileSyncCore
import NIOCore

extension ClientSession {
    /// The reading task: turns inbound frames into events for the conversation, except
    /// acknowledgements (`FILE_ACK` messages, ack frames), which it records in `acks` as they come
    /// (Protocol.md §5.6: the client keeps reading while it sends). Finishes the stream with the
    /// error that ended the connection.
    static func read(
        _ inbound: NIOAsyncChannelInboundStream<Frame>,
        into continuation: AsyncThrowingStream<ServerEvent, any Error>.Continuation,
        acks: Acknowledgements
    ) async {
        do {
            let decoder = MessageDecoder()
            for try await frame in inbound {
                switch frame.kind {
                case .tasks:
                    continuation.yield(.tasks(try BinaryTasks.decode(frame.payload)))
                    continue
                case .ack:
                    acks.record(try BinaryAcks.decode(frame.payload))
                    continue
                default: break
                }
                let message = try decoder.decode(frame)
                if case .fileAck(let ack) = message {
                    acks.record(ack.files)
                } else {
                    continuation.yield(.message(message))
                }
            }
            continuation.finish(throwing: FileSyncError(.connectionClosed, "the server closed the connection"))
        } catch {
            continuation.finish(throwing: error)
        }
    }

    /// The next event; an `ERROR` message ends the session as a ``ServerRefusal``.
    func nextEvent(_ events: inout ServerEvent.Iterator) async throws -> ServerEvent {
        guard let event = try await events.next() else {
            throw FileSyncError(.connectionClosed, "the server closed the connection")
        }
        if case .message(.error(let error)) = event { throw ServerRefusal(error: error) }
        return event
    }

    /// The next control message.
    func next(_ events: inout ServerEvent.Iterator) async throws -> Message {
        try await events.nextMessage()
    }

    /// The `ERROR` among the events still to be read, if the server sent one; reads them until the
    /// connection's end.
    static func refusal(pendingIn events: inout ServerEvent.Iterator) async -> ServerRefusal? {
        while let event = try? await events.next() {
            if case .message(.error(let error)) = event { return ServerRefusal(error: error) }
        }
        return nil
    }
}
