import FileSyncCore
import Foundation
import Synchronization

/// What the server's sessions are doing now, for `status` and the status page: who is active, who
/// waits (in ticket order, which is the queue's), and the active backup's progress. Sessions write
/// it under a lock held for a few instructions; readers copy it out.
public final class LiveActivity: Sendable {
    struct Entry {
        var clientId: String
        var kind: String
        var since: Date
        var active = false
        var filesDone = 0
        var filesTotal: Int?
        var bytesTotal: Int64?
        var wire: WireCounter?
        /// Bytes received when the transfer started (progress counts from there).
        var wireBase: Int64 = 0
    }

    private let entries = Mutex<[UInt64: Entry]>([:])

    public init() {}

    /// A session took ticket `number` in the queue.
    func joined(_ number: UInt64, clientId: String, kind: String, wire: WireCounter?) {
        entries.withLock { $0[number] = Entry(clientId: clientId, kind: kind, since: Date(), wire: wire) }
    }

    /// The session got its turn.
    func activated(_ number: UInt64) {
        entries.withLock { entries in
            entries[number]?.active = true
            entries[number]?.since = Date()
        }
    }

    /// The active backup's task list is out: `files` files of `bytes` bytes to receive.
    func transferStarted(_ number: UInt64, files: Int, bytes: Int64) {
        entries.withLock { entries in
            guard var entry = entries[number] else { return }
            entry.filesTotal = files
            entry.bytesTotal = bytes
            entry.wireBase = entry.wire?.received ?? 0
            entries[number] = entry
        }
    }

    /// `done` files of the task list are stored or failed.
    func progress(_ number: UInt64, filesDone done: Int) {
        entries.withLock { $0[number]?.filesDone = done }
    }

    /// The session ended.
    func left(_ number: UInt64) {
        _ = entries.withLock { $0.removeValue(forKey: number) }
    }

    /// A copy of the state now.
    public func snapshot(now: Date = Date()) -> LiveStatus {
        entries.withLock { entries in
            var status = LiveStatus(active: nil, queue: [])
            var position = 0
            for (_, entry) in entries.sorted(by: { $0.key < $1.key }) {
                var session = LiveSession(
                    clientId: entry.clientId, kind: entry.kind, position: 0,
                    seconds: now.timeIntervalSince(entry.since))
                if entry.active {
                    if let total = entry.filesTotal {
                        session.filesDone = entry.filesDone
                        session.filesTotal = total
                        session.bytesTotal = entry.bytesTotal
                        session.bytesReceived = max(0, (entry.wire?.received ?? 0) - entry.wireBase)
                    }
                    status.active = session
                } else {
                    position += 1
                    session.position = position
                    status.queue.append(session)
                }
            }
            return status
        }
    }
}
