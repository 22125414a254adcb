import Dispatch
import FileSyncCore
import NIOCore
import Synchronization

/// Reads, hashes and compresses the next small files on threads of their own while the session
/// sends the current one.
///
/// A file of at most one block travels as one file frame (`fileFrames`), and building that frame
/// needs nothing from the connection: only the file. Done in turn on the session's task, it kept
/// one core busy with compression while the other waited; here ``workerCount`` workers, each with
/// a compressor of its own, prepare up to ``depth`` files ahead, in task order, and the session
/// only takes each frame when the file's turn comes. Which files are prepared is a hint from the
/// send state machine; a file prepared but never asked for costs only the work.
final class WholeFilePrefetcher {
    /// Workers preparing files at once: the cores of a small machine.
    static let workerCount = 2
    /// Files prepared or being prepared ahead, at most.
    static let depth = 6
    /// Smaller files are prepared in turn by the session: reading and hashing a few KiB costs
    /// less than handing the file to another thread and waking the session when it is done.
    static let minimumSize: Int64 = 64 << 10

    private let workers: [Worker]
    /// The files handed to workers and not yet taken, by manifest path.
    private var pending: [String: PreparedFile] = [:]
    private var nextWorker = 0

    /// - Parameter makeCompressor: a new compressor of the session's codec (or `nil` for none),
    ///   one per worker: compressors keep state and are not shared between threads.
    init(makeCompressor: () throws -> BlockCompressor?) rethrows {
        workers = try (0..<Self.workerCount).map { index in
            Worker(label: "filesync.prefetch.\(index)", frames: TransferFrames(compressor: try makeCompressor()))
        }
    }

    /// Hands the files among `entries` that are not yet pending to the workers, while fewer than
    /// ``depth`` are; `localPath` names where each is read.
    func prefetch(_ entries: [ManifestEntry], localPath: (String) -> String) {
        for entry in entries where pending[entry.path] == nil {
            guard pending.count < Self.depth else { return }
            let slot = PreparedFile()
            pending[entry.path] = slot
            let worker = workers[nextWorker]
            nextWorker = (nextWorker + 1) % workers.count
            worker.prepare(entry, at: localPath(entry.path), into: slot)
        }
    }

    /// The prepared frame of `path`, once its worker is done; `nil` if it was never handed out.
    func take(_ path: String) async -> FileSender.PreparedWhole? {
        guard let slot = pending.removeValue(forKey: path) else { return nil }
        return await slot.value()
    }

    /// One thread and its compressor.
    private final class Worker: Sendable {
        let queue: DispatchQueue
        let frames: Mutex<TransferFrames>

        init(label: String, frames: sending TransferFrames) {
            queue = DispatchQueue(label: label)
            self.frames = Mutex(frames)
        }

        func prepare(_ entry: ManifestEntry, at localPath: String, into slot: PreparedFile) {
            queue.async { [self] in
                let prepared = frames.withLock { FileSender.prepareWhole(entry, at: localPath, frames: $0) }
                slot.fulfil(prepared)
            }
        }
    }

    /// The result of one file's preparation, awaited by the session.
    private final class PreparedFile: Sendable {
        private enum State {
            case waiting(CheckedContinuation<FileSender.PreparedWhole, Never>?)
            case done(FileSender.PreparedWhole)
        }

        private let state = Mutex(State.waiting(nil))

        func fulfil(_ prepared: FileSender.PreparedWhole) {
            let waiter = state.withLock { state in
                defer { state = .done(prepared) }
                if case .waiting(let waiter) = state { return waiter }
                return nil
            }
            waiter?.resume(returning: prepared)
        }

        func value() async -> FileSender.PreparedWhole {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> FileSender.PreparedWhole? in
                    if case .done(let prepared) = state { return prepared }
                    state = .waiting(continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
