import FileSyncCore
import Foundation
import GRDB

/// The server's session history: `<root>/.filesync/@server/sessions.sqlite`, one row per session
/// (``SessionRecord``), kept for ``retention`` and pruned on each write. (`@` cannot start a client
/// id, so the folder never meets a client's state folder.)
///
/// A record of what happened, never needed to restore anything: a write that fails is logged by
/// the caller and the backup goes on.
public final class SessionLog: Sendable {
    /// How long records are kept by default: a year.
    public static let defaultRetention: Double = 365 * 86_400

    /// The folder of the server's own state, under the storage root.
    public static func folder(root: String) -> String { ClientStateDirectory.stateRoot(root) + "/@server" }
    /// The database's path.
    public static func path(root: String) -> String { folder(root: root) + "/sessions.sqlite" }

    private let database: DatabaseQueue
    /// Seconds a record is kept after its session ended.
    public let retention: Double

    /// Opens (creating it and its folder if needed) the log of the server storing in `root`.
    public init(root: String, retention: Double = SessionLog.defaultRetention) throws {
        self.retention = retention
        let folder = Self.folder(root: root)
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            var configuration = Configuration()
            configuration.journalMode = .wal
            configuration.busyMode = .timeout(5)
            database = try DatabaseQueue(path: Self.path(root: root), configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw FileSyncError(.storageFailed, "cannot open the session history \(Self.path(root: root)): \(error)")
        }
    }

    /// Opens an existing log read-only (the `status` command without a running server); `nil`
    /// when the server never wrote one.
    public static func openReadOnly(root: String) throws -> SessionLog? {
        let path = path(root: root)
        guard FileManager.default.fileExists(atPath: path) else {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), isFolder.boolValue else {
                throw FileSyncError(.storageFailed, "the storage folder \(root) does not exist")
            }
            return nil
        }
        return try SessionLog(readOnlyPath: path)
    }

    private init(readOnlyPath path: String) throws {
        retention = Self.defaultRetention
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(5)
            database = try DatabaseQueue(path: path, configuration: configuration)
            _ = try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM session") }
        } catch {
            throw FileSyncError(.storageFailed, "cannot read the session history \(path): \(error)")
        }
    }

    /// Records `record` and forgets the records that ended more than ``retention`` before `now`.
    /// Synchronous: call it on the storage executor.
    public func insert(_ record: SessionRecord, now: Double = Date().timeIntervalSince1970) throws {
        try wrap {
            try database.write { db in
                try record.insert(db)
                try db.execute(sql: "DELETE FROM session WHERE endedAt < ?", arguments: [now - retention])
            }
            // A record is a few hundred bytes; without a checkpoint the write-ahead log would keep
            // pages of every recent session, and each backup would cost its snapshot tens of KB of
            // disk that no snapshot needs. A reader holding the log only delays this to the next one.
            _ = try? database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
        }
    }

    /// Reads with `body` (the queries of ``SessionLog+Queries``).
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try wrap { try database.read(body) }
    }

    private func wrap<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as FileSyncError {
            throw error
        } catch {
            throw FileSyncError(.storageFailed, "the session history failed: \(error)")
        }
    }
}
