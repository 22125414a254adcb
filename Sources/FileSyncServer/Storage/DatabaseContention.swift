import GRDB

/// Tells a database that is busy (another connection holds its lock past the wait) from one that
/// is broken: the first is transient and not the client's fault, answered `serverBusy`, which a
/// client retries; the second is `storageFailed` (Protocol.md §7, §9).
enum DatabaseContention {
    /// Whether `error` is SQLite's "database is locked" or "table is locked".
    static func matches(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    }
}
