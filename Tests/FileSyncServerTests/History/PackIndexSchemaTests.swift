import FileSyncCore
import Foundation
import GRDB
import Testing

@testable import FileSyncServer

@Suite("Pack index schema") struct PackIndexSchemaTests {
    @Test("an index made before the migrator (no migration record) opens with its schema and rows unchanged")
    func oldIndexOpens() throws {
        let history = FileManager.default.temporaryDirectory.appendingPathComponent("index-\(UUID().uuidString)").path
        let packs = history + "/packs"
        try FileManager.default.createDirectory(atPath: packs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: history) }
        // The pack is on disk and indexed, so reconciling keeps its rows without reading it.
        #expect(FileManager.default.createFile(atPath: packs + "/a.pack", contents: Data()))
        let hash = ChunkHash(of: UnsafeRawBufferPointer(start: nil, count: 0))
        let schemaSQL = "SELECT type, name, sql FROM sqlite_master WHERE tbl_name NOT LIKE 'grdb%' ORDER BY name"
        let before: [Row]
        do {
            // The schema as indexes made before the migrator have it, with one indexed chunk.
            let old = try DatabaseQueue(path: history + "/index.sqlite")
            try old.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE IF NOT EXISTS pack (name TEXT PRIMARY KEY, size INTEGER NOT NULL);
                        CREATE TABLE IF NOT EXISTS chunk (
                            hash BLOB NOT NULL, pack TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
                            PRIMARY KEY (hash, pack));
                        CREATE INDEX IF NOT EXISTS chunkByPack ON chunk(pack);
                        INSERT INTO pack (name, size) VALUES ('a.pack', 0);
                        """)
                try db.execute(
                    sql: "INSERT INTO chunk (hash, pack, offset, length) VALUES (?, 'a.pack', 0, 10)",
                    arguments: [Data(hash.bytes)])
            }
            before = try old.read { db in try Row.fetchAll(db, sql: schemaSQL) }
        }
        let index = try PackIndex(path: history + "/index.sqlite", packsPath: packs)
        #expect(try index.locations(of: hash) == [PackIndex.Location(pack: "a.pack", offset: 0, length: 10)])
        // Opening it again runs no step twice.
        #expect(try PackIndex(path: history + "/index.sqlite", packsPath: packs).packs() == ["a.pack": 0])
        let after = try DatabaseQueue(path: history + "/index.sqlite")
        #expect(try after.read { db in try Row.fetchAll(db, sql: schemaSQL) } == before)
        #expect(try after.read { db in try PackIndex.migrator.hasCompletedMigrations(db) })
    }
}
