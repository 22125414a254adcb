import FileSyncCore
import FileSyncSystem
import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where each packed chunk is: `history/index.sqlite`, mapping a chunk's SHA-256 to a pack, an
/// offset and a length.
///
/// A cache, never the truth: the packs describe themselves. On opening, an index that cannot be
/// opened or fails SQLite's check is deleted and rebuilt from the packs, and a readable one is
/// reconciled with the `packs` folder (a pack named but not indexed, as a crash between the rename
/// and the commit leaves it, is indexed; rows of a pack no longer there are dropped). A chunk may be
/// in several packs (a repack cut short): each pack has its own rows, so deleting one pack's rows
/// never forgets the other copy.
final class PackIndex: Sendable {
    /// Where a chunk is.
    struct Location: Sendable, Equatable {
        var pack: String
        var offset: Int64
        var length: Int
    }

    private let database: DatabaseQueue
    private let path: String
    private let packsPath: String

    /// Opens the index at `path` for the packs in `packsPath`, rebuilding it when needed.
    init(path: String, packsPath: String) throws {
        self.path = path
        self.packsPath = packsPath
        if let opened = try? Self.openDatabase(path) {
            database = opened
        } else {
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
            database = try Self.wrap { try Self.openDatabase(path) }
        }
        try reconcile()
    }

    private static func openDatabase(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.journalMode = .wal
        // The session before (a restore, a prune, the previous backup's snapshot) may hold the
        // write lock for a moment: wait for it rather than failing this session.
        configuration.busyMode = .timeout(30)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try migrator.migrate(queue)
        let check = try queue.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") }
        guard check == "ok" else { throw FileSyncError(.storageFailed, "the pack index is damaged") }
        return queue
    }

    /// Records the chunks of the pack `name` (one transaction, synchronous).
    func add(pack name: String, size: Int64, entries: [PackWriter.Entry]) throws {
        try Self.wrap {
            try database.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO pack (name, size) VALUES (?, ?)", arguments: [name, size])
                let statement = try db.cachedStatement(
                    sql: "INSERT OR IGNORE INTO chunk (hash, pack, offset, length) VALUES (?, ?, ?, ?)")
                for entry in entries {
                    try statement.execute(arguments: [Data(entry.hash.bytes), name, entry.offset, entry.length])
                }
            }
        }
    }

    /// Forgets the pack `name` and its chunks (before the pack file is deleted).
    func remove(pack name: String) throws {
        try Self.wrap {
            try database.write { db in
                try db.execute(sql: "DELETE FROM chunk WHERE pack = ?", arguments: [name])
                try db.execute(sql: "DELETE FROM pack WHERE name = ?", arguments: [name])
            }
        }
    }

    /// A location of `hash`, or `nil` when no indexed pack holds it.
    func location(of hash: ChunkHash) throws -> Location? {
        try locations(of: hash).first
    }

    /// Every location of `hash`.
    func locations(of hash: ChunkHash) throws -> [Location] {
        try Self.wrap {
            try database.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT pack, offset, length FROM chunk WHERE hash = ? ORDER BY pack",
                    arguments: [Data(hash.bytes)]
                ).map { Location(pack: $0[0], offset: $0[1], length: $0[2]) }
            }
        }
    }

    /// The indexed packs and their sizes.
    func packs() throws -> [String: Int64] {
        try Self.wrap {
            try database.read { db in
                var result: [String: Int64] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT name, size FROM pack") { result[row[0]] = row[1] }
                return result
            }
        }
    }

    /// The chunks of the pack `name`.
    func chunks(inPack name: String) throws -> [PackWriter.Entry] {
        try Self.wrap {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT hash, offset, length FROM chunk WHERE pack = ?", arguments: [name])
                    .map { row in
                        let data: Data = row[0]
                        let hash = data.withUnsafeBytes { ChunkHash(bytes: $0) }!
                        return PackWriter.Entry(hash: hash, offset: row[1], length: row[2])
                    }
            }
        }
    }

    /// Empties the index and indexes every pack again from its footer. Packs whose footer cannot be
    /// read are left out (the checker reports them).
    func rebuildIndex() throws {
        try Self.wrap { try database.write { db in try db.execute(sql: "DELETE FROM chunk; DELETE FROM pack") } }
        try reconcile()
    }

    /// Indexes the packs on disk that are not indexed and forgets those no longer on disk.
    func reconcile() throws {
        let onDisk = Set(Self.packNames(in: packsPath))
        let indexed = try packs()
        for name in indexed.keys where !onDisk.contains(name) { try remove(pack: name) }
        for name in onDisk where indexed[name] == nil {
            let fd = Glibc.open(packsPath + "/" + name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, let entries = try? PackReader.entries(of: fd) else { continue }
            try add(pack: name, size: Int64(info.st_size), entries: entries)
        }
    }

    /// The pack file names in the folder at `path`.
    static func packNames(in path: String) -> [String] {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        return HistoryIO.names(in: fd).filter { $0.hasSuffix(".pack") && !$0.hasPrefix(HistoryIO.temporaryPrefix) }
    }

    private static func wrap<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as FileSyncError {
            throw error
        } catch {
            throw FileSyncError(
                DatabaseContention.matches(error) ? .serverBusy : .storageFailed, "the pack index failed: \(error)")
        }
    }
}
