import FileSyncCore
import Synchronization

/// Results from `FILE_ACK`s (by path) and ack frames (by entry), filled by the reading task
/// while the files go out, and tallied by ``AckTally`` once `NEXT_SYNC` has arrived.
final class Acknowledgements: Sendable {
    private let results = Mutex<[FileResult]>([])
    private let acks = Mutex<[BinaryAcks.Ack]>([])
    private let trace: AckTrace?

    init(trace: AckTrace? = nil) { self.trace = trace }

    func record(_ files: [FileResult]) {
        results.withLock { $0.append(contentsOf: files) }
        trace?.record(files)
    }

    func record(_ ack: BinaryAcks.Ack) {
        acks.withLock { $0.append(ack) }
        trace?.record(ack)
    }

    /// Everything recorded, tallied against the task list; ack frames without `binaryTasks` are a
    /// protocol error.
    func tally(into tally: inout AckTally, binary: Bool, tasks: [BinaryTasks.Run]) throws {
        let acks = acks.withLock { $0 }
        guard binary else {
            guard acks.isEmpty else {
                throw FileSyncError(.unexpectedMessage, "an ack frame, but binaryTasks was not negotiated")
            }
            tally.record(results.withLock { $0 }, tasks: tasks)
            return
        }
        try tally.record(acks)
    }
}
