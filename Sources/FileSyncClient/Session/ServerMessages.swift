import FileSyncCore

/// Where the handshake reads the server's control messages: the backup's event stream, or the
/// frames of a history session read in place (``FrameMessages``).
protocol ServerMessages {
    /// The next control message; an `ERROR` message throws a ``ServerRefusal``, the connection's
    /// end `connectionClosed`.
    mutating func nextMessage() async throws -> Message
}

extension AsyncThrowingStream.Iterator: ServerMessages where Element == ServerEvent, Failure == any Error {
    mutating func nextMessage() async throws -> Message {
        guard let event = try await next() else {
            throw FileSyncError(.connectionClosed, "the server closed the connection")
        }
        switch event {
        case .message(.error(let error)): throw ServerRefusal(error: error)
        case .message(let message): return message
        case .tasks:
            throw FileSyncError(.unexpectedMessage, "a tasks frame arrived where a control message was expected")
        }
    }
}
