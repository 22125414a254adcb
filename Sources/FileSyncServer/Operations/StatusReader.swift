import FileSyncCore
import FileSyncSystem
import Foundation

/// Puts a ``ServerStatus`` together from the session history, the storage root and (from a
/// running server) the live state. Synchronous: it reads SQLite and folders.
public struct StatusReader: Sendable {
    public let root: String
    public let log: SessionLog?
    /// Clients expected to back up: listed (as `never`) even without a record.
    public var expected: [String] = []
    public var lateAfter: Double
    public var staleAfter: Double

    /// The default stale limit: 26 hours, a daily backup with room for a slow night.
    public static let defaultStaleAfter: Double = 26 * 3600

    public init(root: String, log: SessionLog?, lateAfter: Double, staleAfter: Double = Self.defaultStaleAfter) {
        self.root = root
        self.log = log
        self.lateAfter = lateAfter
        self.staleAfter = staleAfter
    }

    /// The status at `now`; `live` from a running server, `nil` from the disk.
    public func status(live: LiveStatus?, now: Date = Date()) throws -> ServerStatus {
        let time = now.timeIntervalSince1970
        var clients: [String: ClientStatus] = [:]
        for summary in try log?.clientSummaries() ?? [] {
            clients[summary.clientId] = client(summary, now: time)
        }
        for id in expected where clients[id] == nil {
            var status = ClientStatus(id: id, freshness: .never)
            status.snapshots = snapshotCount(id)
            clients[id] = status
        }
        let free = (try? FileManager.default.attributesOfFileSystem(forPath: root))?[.systemFreeSize] as? NSNumber
        return ServerStatus(
            generatedAt: time, source: live == nil ? "disk" : "server", staleAfterSeconds: staleAfter,
            lateAfterSeconds: lateAfter, clients: clients.values.sorted { $0.id < $1.id }, live: live,
            storageFreeBytes: free?.int64Value)
    }

    private func client(_ summary: SessionLog.ClientSummary, now: Double) -> ClientStatus {
        let age = summary.lastSuccess.map { max(0, now - $0.endedAt) }
        var status = ClientStatus(
            id: summary.clientId, freshness: .of(age: age, lateAfter: lateAfter, staleAfter: staleAfter))
        status.lastSuccess = summary.lastSuccess?.endedAt
        status.lastSuccessAgeSeconds = age
        status.lastAttempt = summary.lastAttempt?.endedAt
        status.lastResult = summary.lastAttempt?.result.rawValue
        status.lastReason = summary.lastAttempt?.reason
        status.consecutiveFailures = summary.consecutiveFailures
        status.filesStored = summary.lastSuccess?.filesScanned ?? 0
        status.bytesStored = summary.lastSuccess?.bytesTotal ?? 0
        status.lastDurationSeconds = summary.lastSuccess?.secondsActive
        status.lastFilesFailed = summary.lastSuccess?.filesFailed
        status.sessions = summary.sessionsByResult
        status.bytesStoredTotal = summary.bytesStoredTotal
        status.snapshots = snapshotCount(summary.clientId)
        return status
    }

    /// The snapshots kept for `id` (their records counted; nothing opened for writing), `nil`
    /// when the client has no history.
    private func snapshotCount(_ id: String) -> Int? {
        guard let clientID = try? ClientID(validating: id) else { return nil }
        let folder = ClientStateDirectory(root: root, id: clientID).history + "/snapshots"
        return DirectoryEntries.names(atPath: folder)?.count(where: SnapshotRecord.isFileName)
    }
}
