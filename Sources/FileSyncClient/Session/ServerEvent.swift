import FileSyncCore

/// What the server sends during a session, as the conversation reads it (acknowledgements go
/// elsewhere): a control message, or a part of the task list in binary form.
enum ServerEvent: Sendable {
    case message(Message)
    case tasks(BinaryTasks.Part)

    /// The events of one connection, in order.
    typealias Iterator = AsyncThrowingStream<ServerEvent, any Error>.AsyncIterator
}
