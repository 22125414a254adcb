import GRDB

extension SessionLog {
    /// What the log says about one client's backups.
    public struct ClientSummary: Sendable, Equatable {
        public var clientId: String
        /// The newest backup that completed (`ok` or `partial`).
        public var lastSuccess: SessionRecord?
        /// The newest backup session, whatever its result.
        public var lastAttempt: SessionRecord?
        /// Backup sessions that failed or were refused since the last success.
        public var consecutiveFailures: Int
        /// Sessions of every kind by result, over the kept period.
        public var sessionsByResult: [String: Int]
        /// Bytes stored by all kept backups (``SessionRecord/bytesStored`` summed).
        public var bytesStoredTotal: Int64
    }

    private static let successes = "('ok', 'partial')"

    /// Every client the log knows, by id.
    public func clientSummaries() throws -> [ClientSummary] {
        try read { db in
            let ids = try String.fetchAll(
                db, sql: "SELECT DISTINCT clientId FROM session WHERE clientId != '' ORDER BY clientId")
            return try ids.map { try Self.summary(of: $0, db) }
        }
    }

    /// The backups of `clientId` that ended at or after `since`, oldest first (for the charts).
    public func backups(of clientId: String, since: Double) throws -> [SessionRecord] {
        try read { db in
            try SessionRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM session WHERE clientId = ? AND kind = 'backup' AND endedAt >= ?
                    AND result IN \(Self.successes) ORDER BY endedAt
                    """,
                arguments: [clientId, since])
        }
    }

    /// Every record, oldest first (tests and `status --json` debugging).
    public func allRecords() throws -> [SessionRecord] {
        try read { db in try SessionRecord.fetchAll(db, sql: "SELECT * FROM session ORDER BY id") }
    }

    private static func summary(of clientId: String, _ db: Database) throws -> ClientSummary {
        let backups = "SELECT * FROM session WHERE clientId = ? AND kind = 'backup'"
        let lastAttempt = try SessionRecord.fetchOne(
            db, sql: backups + " ORDER BY endedAt DESC, id DESC LIMIT 1", arguments: [clientId])
        let lastSuccess = try SessionRecord.fetchOne(
            db, sql: backups + " AND result IN \(successes) ORDER BY endedAt DESC, id DESC LIMIT 1",
            arguments: [clientId])
        let failures =
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM session WHERE clientId = ? AND kind = 'backup'
                    AND result IN ('failed', 'refused') AND endedAt >= ?
                    """,
                arguments: [clientId, lastSuccess?.endedAt ?? 0]) ?? 0
        var byResult: [String: Int] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT result, COUNT(*) AS n FROM session WHERE clientId = ? GROUP BY result",
            arguments: [clientId])
        {
            byResult[row["result"]] = row["n"]
        }
        let stored =
            try Int64.fetchOne(
                db, sql: "SELECT COALESCE(SUM(bytesStored), 0) FROM session WHERE clientId = ?", arguments: [clientId])
            ?? 0
        return ClientSummary(
            clientId: clientId, lastSuccess: lastSuccess, lastAttempt: lastAttempt, consecutiveFailures: failures,
            sessionsByResult: byResult, bytesStoredTotal: stored)
    }
}
