import FileSyncCore
import FileSyncSystem
import Foundation
import Logging

/// The operational side of a running server, shared by its sessions, its control socket and its
/// HTTP status service: the session history, the live state, and the status read from both.
public final class ServerOperations: Sendable {
    public let root: String
    /// `nil` when the history could not be opened (logged at start; backups go on without it).
    public let log: SessionLog?
    public let live = LiveActivity()
    /// Authentication failures are logged once a minute per address.
    let authFailures = LogThrottle()
    public let reader: StatusReader
    /// Status reads (SQLite, folders) run on a thread of their own, never on the storage threads
    /// the backups use: a busy status page cannot delay a backup's writes.
    private let readerThread = StorageExecutor(threads: 1)
    private let logger: Logger

    /// Opens the session history under `root`, kept for `retention` seconds.
    public init(
        root: String, retention: Double, intervalSeconds: Double, staleAfter: Double?, expected: [String],
        logger: Logger
    ) {
        self.root = root
        self.logger = logger
        do {
            log = try SessionLog(root: root, retention: retention)
        } catch {
            logger.error("session history unavailable; backups go on without it", metadata: ["error": "\(error)"])
            log = nil
        }
        var reader = StatusReader(
            root: root, log: log, lateAfter: 2 * intervalSeconds,
            staleAfter: staleAfter ?? StatusReader.defaultStaleAfter)
        reader.expected = expected
        self.reader = reader
    }

    /// Records a session on the storage threads. A failure is logged and goes no further: the
    /// history is a record, never a reason to fail a backup.
    func record(_ record: SessionRecord) async {
        guard let log else { return }
        let logger = logger
        do {
            try await StorageExecutor.shared.run { try log.insert(record) }
        } catch {
            logger.error(
                "could not record the session in the history",
                metadata: ["client": "\(record.clientId)", "error": "\(error)"])
        }
    }

    /// The status now, live state included.
    public func status() async throws -> ServerStatus {
        let (reader, live) = (reader, live)
        return try await readerThread.run { try reader.status(live: live.snapshot()) }
    }

    /// The recent successful backups of `clientId` (the page's charts), on the status thread.
    public func recentBackups(of clientId: String, days: Int) async throws -> [SessionRecord] {
        guard let log else { return [] }
        let since = Date().timeIntervalSince1970 - Double(days) * 86_400
        return try await readerThread.run { try log.backups(of: clientId, since: since) }
    }
}
