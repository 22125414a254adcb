import FileSyncCore
import NIOCore

/// Frames waiting to be written together (about 1 MiB a write), and the bookkeeping that keeps
/// the writes from running far ahead of the event loop (see ``FileSender/flush()``).
struct FrameBatch {
    private(set) var frames: [Frame] = []
    private var bytes = 0
    /// Completes once the event loop has taken the batches written before it.
    var taken: EventLoopFuture<Void>?
    var batchesSinceWait = 0
    static let limit = 1 << 20
    static let batchesPerWait = 4

    var isEmpty: Bool { frames.isEmpty }

    /// Adds `frame`; returns whether the batch is now full enough to be written.
    mutating func add(_ frame: Frame) -> Bool {
        frames.append(frame)
        bytes += frame.payload.readableBytes + Frame.headerSize
        return bytes >= Self.limit
    }

    mutating func removeAll() {
        frames.removeAll(keepingCapacity: true)
        bytes = 0
    }
}
