import GRDB

extension ChunkCatalog {
    /// The catalog's schema, step by step. Catalogs made before the migrator have no record of the
    /// steps run, so every step is written to be a no-op where it is already applied: such a catalog
    /// opens, is brought up to date, and keeps its contents.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("files and chunks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS file (
                        id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,
                        size INTEGER NOT NULL, mtimeNs INTEGER NOT NULL, inode INTEGER NOT NULL);
                    CREATE TABLE IF NOT EXISTS chunk (
                        hash BLOB NOT NULL, fileId INTEGER NOT NULL REFERENCES file(id) ON DELETE CASCADE,
                        offset INTEGER NOT NULL, length INTEGER NOT NULL);
                    CREATE INDEX IF NOT EXISTS chunkByHash ON chunk(hash);
                    CREATE INDEX IF NOT EXISTS chunkByFileOffset ON chunk(fileId, offset);
                    DROP INDEX IF EXISTS chunkByFile;
                    """)
        }
        // The status-change time, which no one can set back, joined the record later.
        migrator.registerMigration("file status-change time") { db in
            let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(file)").map { $0["name"] as String }
            if !columns.contains("ctimeNs") {
                try db.execute(sql: "ALTER TABLE file ADD COLUMN ctimeNs INTEGER NOT NULL DEFAULT 0")
            }
        }
        // The whole content's SHA-256, when the session computed it as it wrote the file: with it,
        // a snapshot of the file needs no second hashing pass (``SnapshotBuilder``).
        migrator.registerMigration("file content hash") { db in
            let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(file)").map { $0["name"] as String }
            if !columns.contains("sha256") {
                try db.execute(sql: "ALTER TABLE file ADD COLUMN sha256 BLOB")
            }
        }
        // Whether the chunk boundaries are the history chunker's by construction (a `chunkerV1`
        // client cut the file, and each chunk was checked against its hash as it arrived): a
        // snapshot then takes the record as it is, without reading the file back to check them.
        migrator.registerMigration("file cut by the history chunker") { db in
            let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(file)").map { $0["name"] as String }
            if !columns.contains("historyCut") {
                try db.execute(sql: "ALTER TABLE file ADD COLUMN historyCut INTEGER NOT NULL DEFAULT 0")
            }
        }
        return migrator
    }
}
