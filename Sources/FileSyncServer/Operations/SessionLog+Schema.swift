import GRDB

extension SessionLog {
    /// The schema, step by step (the chunk catalog's way): a later release adds steps, never edits one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("sessions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE session (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        clientId TEXT NOT NULL, peer TEXT NOT NULL,
                        startedAt REAL NOT NULL, endedAt REAL NOT NULL,
                        kind TEXT NOT NULL, result TEXT NOT NULL, reason TEXT,
                        filesScanned INTEGER NOT NULL, filesSent INTEGER NOT NULL,
                        filesUnchanged INTEGER NOT NULL, filesFailed INTEGER NOT NULL,
                        bytesStored INTEGER NOT NULL, bytesTotal INTEGER NOT NULL, bytesWire INTEGER NOT NULL,
                        secondsQueued REAL NOT NULL, secondsActive REAL NOT NULL);
                    CREATE INDEX sessionByClient ON session(clientId, endedAt);
                    CREATE INDEX sessionByEnd ON session(endedAt);
                    """)
        }
        return migrator
    }
}
