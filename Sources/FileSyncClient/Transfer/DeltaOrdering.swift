import FileSyncCore

/// When a file's transfer may begin relative to the arrival of the task list: the one ordering
/// rule of the send side that the protocol leaves to the client.
///
/// Protocol.md §4 (TASKS, "Tasks frames answer each manifest part") and §5.7: the server reads
/// no file frames and sends no `CHUNK_NEED` before it has sent the final tasks frame. A `delta`
/// transfer waits for `CHUNK_NEED` after its first chunk-list frame, so a client that started
/// one earlier would have to interleave tasks frames with the `CHUNK_NEED` it waits for. The v1
/// client avoids that: it reads every remaining tasks part before its first `delta` transfer.
/// Every other kind (`full`, `resume`, `chunked`) streams without an answer from the server, and
/// may go as soon as its part has arrived (§5.6, `tasksPerPart`). The server side of the same rule
/// (§6.2: each part is planned as it arrives) needs no check: it is what makes the wait finite.
enum DeltaOrdering {
    /// Whether a task of this kind may start now, given whether the final task part has arrived.
    static func mayStart(_ kind: TransferTask.Kind, taskListComplete: Bool) -> Bool {
        kind != .delta || taskListComplete
    }
}
