import FileSyncCore
import NIOCore

/// Frames waiting to be written together (about 256 KiB a write), and the bookkeeping that keeps
/// the writes from running far ahead of the event loop (see ``FileSender/flush()``).
struct FrameBatch {
    /// File content carried by a frame of the batch: counted as sent once the batch is written.
    struct Content {
        var path: String
        var offset: Int64
        var count: Int
    }

    private(set) var frames: [Frame] = []
    /// The content of the frames batched so far.
    private(set) var content: [Content] = []
    /// The content of the frame about to be added (``FileSender/paced(_:of:at:)``).
    private var next: Content?
    private var bytes = 0
    /// Completes once the event loop has taken the batches written before it.
    var taken: EventLoopFuture<Void>?
    var batchesSinceWait = 0
    /// A write every 256 KiB or so: what a cut loses is what was handed to the connection but not
    /// yet through it (Protocol.md §5.6), at most two batches with the wait after each.
    static let limit = 256 << 10
    /// After each batch, the writer waits until the event loop has taken the one before: the event
    /// loop learns that the socket is full only as it writes, and without this wait a fast reader
    /// had queued up to eight writes (8 MiB of 1 MiB batches) ahead of it, lost at a cut.
    static let batchesPerWait = 1

    var isEmpty: Bool { frames.isEmpty }

    /// Notes that the next frame added carries `count` bytes of the file at `path` from `offset`.
    mutating func carries(_ count: Int, of path: String, at offset: Int64) {
        next = Content(path: path, offset: offset, count: count)
    }

    /// Adds `frame`; returns whether the batch is now full enough to be written.
    mutating func add(_ frame: Frame) -> Bool {
        frames.append(frame)
        if let next {
            content.append(next)
            self.next = nil
        }
        bytes += frame.payload.readableBytes + Frame.headerSize
        return bytes >= Self.limit
    }

    mutating func removeAll() {
        frames.removeAll(keepingCapacity: true)
        content.removeAll(keepingCapacity: true)
        bytes = 0
    }
}
