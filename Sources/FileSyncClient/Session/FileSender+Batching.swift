import FileSyncCore
import NIOCore

extension FileSender {
    /// Writes whatever is batched; every ``FrameBatch/batchesPerWait`` batches, waits until the
    /// event loop has taken the batches written before the last such wait.
    ///
    /// The writer hands each batch to the event loop as a task of its own, and only stops taking
    /// batches once the event loop has seen the socket fill up: a reader faster than the network
    /// (a chunk memo makes reading nearly free) could otherwise queue dozens of MiB on the way, in
    /// plaintext and again encrypted, all of it lost at a cut. These waits keep that under about
    /// 2 × ``FrameBatch/batchesPerWait`` batches (Protocol.md §5.6).
    mutating func flush() async throws {
        guard !batch.isEmpty else { return }
        try await outbound.write(contentsOf: batch.frames)
        // Content counts as sent once handed to the connection: a batch that a cut keeps from
        // being written was never on its way, and is not resent when the next session sends it.
        for content in batch.content { stats.sent(content.count, of: content.path, at: content.offset) }
        batch.batchesSinceWait += 1
        if batch.batchesSinceWait >= FrameBatch.batchesPerWait {
            batch.batchesSinceWait = 0
            let previous = batch.taken
            batch.taken = eventLoop.submit {}
            try await previous?.get()
        }
        batch.removeAll()
    }

    /// Adds `frame` to the batch, writing the batch once it is full.
    mutating func append(_ frame: Frame) async throws {
        if batch.add(frame) { try await flush() }
    }

    /// Adds a control message's frame (``ControlMessageEncoder``) to the batch.
    mutating func append(_ message: Message) async throws {
        try await append(frames.control(message))
    }
}
