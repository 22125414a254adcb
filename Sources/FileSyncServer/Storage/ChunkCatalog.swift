import FileSyncCore
import FileSyncSystem
import Foundation
import GRDB

/// The chunks of a client's stored files, by SHA-256: what lets a delta transfer send only the
/// chunks the server lacks, whether the rest sits in the old version of the same file, in a file
/// that was renamed or moved, or anywhere else in the client's folder.
///
/// One SQLite database per client, `<root>/.filesync/<client-id>/catalog.sqlite`, filled as chunked
/// and delta transfers are committed, so answering never rereads old files. It is a hint, never the
/// truth: a location is used only while the file still has the size, modification time and inode
/// recorded with it, and every reused chunk is checked against its hash as it is copied. A stale or
/// lost catalog costs bandwidth, never correctness.
///
/// Safe to use from several tasks (the session's receiver looks chunks up while its committer
/// records files): GRDB's queue serializes access.
final class ChunkCatalog: Sendable {
    /// Where a chunk can be read: `length` bytes at `offset` of the file at `path`, provided the
    /// file still matches `size`, `mtimeNs` and `inode`.
    struct Location: Equatable {
        var path: String
        var offset: Int64
        var length: Int
        var size: Int64
        var mtimeNs: Int64
        var inode: UInt64
    }

    private let database: DatabaseQueue

    /// Opens (creating if needed) the catalog in `directory`, the client's `.filesync/<id>` folder.
    init(directory: String) throws {
        do {
            var configuration = Configuration()
            configuration.journalMode = .wal
            // Another connection of this process (a read-back finishing, the session before) may
            // hold the write lock for a moment: wait for it rather than failing the session.
            configuration.busyMode = .timeout(30)
            configuration.prepareDatabase { db in
                // A lost update costs a resend at worst, so commits need not wait for the disk.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            database = try DatabaseQueue(path: directory + "/catalog.sqlite", configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw FileSyncError(
                DatabaseContention.matches(error) ? .serverBusy : .storageFailed,
                "cannot open the chunk catalog in \(directory): \(error)")
        }
    }

    /// Opens the catalog in `directory` for reading only, as it is (no migration, no write: a
    /// reader that never checkpoints the log, for the snapshot's hints once the session is over).
    init(readingFrom directory: String) throws {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(30)
            database = try DatabaseQueue(path: directory + "/catalog.sqlite", configuration: configuration)
        } catch {
            throw FileSyncError(.storageFailed, "cannot read the chunk catalog in \(directory): \(error)")
        }
    }

    /// Whether any file is recorded (if not, nothing can be reused and delta transfers are pointless).
    var isEmpty: Bool {
        (try? database.read { db in try Bool.fetchOne(db, sql: "SELECT NOT EXISTS (SELECT 1 FROM file)") }) ?? true
    }

    /// A recorded location of each hash, or `nil` where none is known.
    func locations(of hashes: [ChunkHash]) throws -> [Location?] {
        try catalogError {
            try database.read { db in
                let statement = try db.cachedStatement(
                    sql: """
                        SELECT file.path, chunk.offset, chunk.length, file.size, file.mtimeNs, file.inode
                        FROM chunk JOIN file ON file.id = chunk.fileId WHERE chunk.hash = ? LIMIT 1
                        """)
                return try hashes.map { hash in
                    guard let row = try Row.fetchOne(statement, arguments: [Data(hash.bytes)]) else { return nil }
                    return Location(
                        path: row[0], offset: row[1], length: row[2], size: row[3], mtimeNs: row[4],
                        inode: UInt64(bitPattern: row[5]))
                }
            }
        }
    }

    /// Records the chunks of the file now stored at `path`, replacing what was recorded for it.
    /// `ctimeNs` is its status-change time once in place (0 if unknown: never patched in place);
    /// `sha256` the whole content's, when known; `historyCut` whether the boundaries are the
    /// history chunker's by construction (``FileRecord/historyCut``).
    func record(
        path: String, size: Int64, mtimeNs: Int64, inode: UInt64, ctimeNs: Int64, chunks: [ChunkEntry],
        sha256: ChunkHash? = nil, historyCut: Bool = false
    ) throws {
        try catalogError {
            try database.write { db in
                try db.execute(sql: "DELETE FROM file WHERE path = ?", arguments: [path])
                try db.execute(
                    sql: """
                        INSERT INTO file (path, size, mtimeNs, inode, ctimeNs, sha256, historyCut)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        path, size, mtimeNs, Int64(bitPattern: inode), ctimeNs, sha256.map { Data($0.bytes) },
                        historyCut,
                    ])
                let fileID = db.lastInsertedRowID
                let insert = try db.cachedStatement(
                    sql: "INSERT INTO chunk (hash, fileId, offset, length) VALUES (?, ?, ?, ?)")
                var offset: Int64 = 0
                for chunk in chunks {
                    try insert.execute(arguments: [Data(chunk.hash.bytes), fileID, offset, chunk.length])
                    offset += Int64(chunk.length)
                }
            }
        }
    }

    /// What the catalog recorded for the file at `path`: its row, size, mtime, inode and
    /// status-change time (0 when unknown).
    struct FileRecord: Equatable {
        var id: Int64
        var size: Int64
        var mtimeNs: Int64
        var inode: UInt64
        var ctimeNs: Int64
        /// The whole content's SHA-256, when the session that stored it computed it.
        var sha256: ChunkHash?
        /// Whether the chunks were cut by a client that cuts as ``HistoryChunking`` does (`chunkerV1`),
        /// so that they are the history's chunks of this content without a read-back to check.
        var historyCut = false

        /// The version recorded, to tell whether the stored file is still it.
        var identity: StoredFileIdentity {
            StoredFileIdentity(size: size, mtimeNs: mtimeNs, inode: inode, ctimeNs: ctimeNs)
        }
    }

    /// The record of the file at `path`, if any.
    func file(at path: String) throws -> FileRecord? {
        try catalogError { try database.read { db in try Self.file(at: path, in: db) } }
    }

    private static func file(at path: String, in db: Database) throws -> FileRecord? {
        try Row.fetchOne(
            db, sql: "SELECT id, size, mtimeNs, inode, ctimeNs, sha256, historyCut FROM file WHERE path = ?",
            arguments: [path]
        ).map { row in
            let hash: Data? = row[5]
            return FileRecord(
                id: row[0], size: row[1], mtimeNs: row[2], inode: UInt64(bitPattern: row[3]), ctimeNs: row[4],
                sha256: hash.flatMap { data in data.withUnsafeBytes { ChunkHash(bytes: $0) } }, historyCut: row[6])
        }
    }

    /// The chunks recorded for `file` that start in `offsets`, by offset.
    func chunks(of file: FileRecord, startingIn offsets: Range<Int64>) throws -> [Int64: ChunkEntry] {
        try catalogError {
            try database.read { db in
                let rows = try Row.fetchCursor(
                    db, sql: "SELECT offset, length, hash FROM chunk WHERE fileId = ? AND offset >= ? AND offset < ?",
                    arguments: [file.id, offsets.lowerBound, offsets.upperBound])
                var chunks: [Int64: ChunkEntry] = [:]
                while let row = try rows.next() {
                    let hash: Data = row[2]
                    guard let hash = hash.withUnsafeBytes({ ChunkHash(bytes: $0) }) else { continue }
                    chunks[row[0]] = ChunkEntry(length: row[1], hash: hash)
                }
                return chunks
            }
        }
    }

    /// The record of the file at `path` and every chunk recorded for it, in file order, read
    /// together (one transaction: a record replaced meanwhile cannot pair with the other's chunks).
    func fileWithChunks(at path: String) throws -> (FileRecord, [ChunkEntry])? {
        try catalogError {
            try database.read { db in
                guard let file = try Self.file(at: path, in: db) else { return nil }
                let rows = try Row.fetchCursor(
                    db, sql: "SELECT length, hash FROM chunk WHERE fileId = ? ORDER BY offset", arguments: [file.id])
                var chunks: [ChunkEntry] = []
                while let row = try rows.next() {
                    let hash: Data = row[1]
                    guard let hash = hash.withUnsafeBytes({ ChunkHash(bytes: $0) }) else { return nil }
                    chunks.append(ChunkEntry(length: row[0], hash: hash))
                }
                return (file, chunks)
            }
        }
    }

    /// Forgets the file at `path` and waits until that is on disk (the catalog otherwise commits
    /// without waiting): done before a stored file is patched in place, so that no crash can leave
    /// the catalog describing chunks the file no longer holds.
    func forgetDurably(_ path: String) throws {
        try catalogError {
            try database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
                try db.inTransaction {
                    try db.execute(sql: "DELETE FROM file WHERE path = ?", arguments: [path])
                    return .commit
                }
            }
        }
    }

    /// Forgets the files at `paths` (replaced, deleted, or found changed).
    func forget(_ paths: some Sequence<String>) throws {
        try catalogError {
            try database.write { db in
                for path in paths { try db.execute(sql: "DELETE FROM file WHERE path = ?", arguments: [path]) }
            }
        }
    }

    private func catalogError<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw FileSyncError(
                DatabaseContention.matches(error) ? .serverBusy : .storageFailed, "chunk catalog: \(error)")
        }
    }
}
