import GRDB

extension PackIndex {
    /// The index's schema, step by step, as the chunk catalog's (``ChunkCatalog/migrator``). Indexes
    /// made before the migrator have no record of the steps run, so every step is written to be a
    /// no-op where it is already applied: such an index opens unchanged and keeps its rows.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("packs and chunks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS pack (name TEXT PRIMARY KEY, size INTEGER NOT NULL);
                    CREATE TABLE IF NOT EXISTS chunk (
                        hash BLOB NOT NULL, pack TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
                        PRIMARY KEY (hash, pack));
                    CREATE INDEX IF NOT EXISTS chunkByPack ON chunk(pack);
                    """)
        }
        return migrator
    }
}
