import FileSyncCore
import Foundation
import GRDB
import Testing

@testable import FileSyncServer

@Suite("Chunk catalog schema") struct ChunkCatalogSchemaTests {
    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("a catalog made before the migrator (no ctime column, no migration record) opens and keeps its records")
    func oldCatalogOpens() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let hash = ChunkHash(of: UnsafeRawBufferPointer(start: nil, count: 0))
        do {
            // The schema as the first catalogs had it, with one recorded file.
            let old = try DatabaseQueue(path: directory + "/catalog.sqlite")
            try old.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE file (
                            id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,
                            size INTEGER NOT NULL, mtimeNs INTEGER NOT NULL, inode INTEGER NOT NULL);
                        CREATE TABLE chunk (
                            hash BLOB NOT NULL, fileId INTEGER NOT NULL REFERENCES file(id) ON DELETE CASCADE,
                            offset INTEGER NOT NULL, length INTEGER NOT NULL);
                        CREATE INDEX chunkByFile ON chunk(fileId);
                        INSERT INTO file (id, path, size, mtimeNs, inode) VALUES (1, 'a.bin', 10, 5, 7);
                        """)
                try db.execute(
                    sql: "INSERT INTO chunk (hash, fileId, offset, length) VALUES (?, 1, 0, 10)",
                    arguments: [Data(hash.bytes)])
            }
        }
        let catalog = try ChunkCatalog(directory: directory)
        #expect(!catalog.isEmpty)
        #expect(try catalog.file(at: "a.bin")?.ctimeNs == 0)
        #expect(
            try catalog.locations(of: [hash])
                == [ChunkCatalog.Location(path: "a.bin", offset: 0, length: 10, size: 10, mtimeNs: 5, inode: 7)])
        try catalog.record(path: "b.bin", size: 3, mtimeNs: 1, inode: 2, ctimeNs: 9, chunks: [])
        #expect(try catalog.file(at: "b.bin")?.ctimeNs == 9)
        // Opening it again runs no step twice.
        #expect(try ChunkCatalog(directory: directory).file(at: "b.bin")?.ctimeNs == 9)
    }
}
