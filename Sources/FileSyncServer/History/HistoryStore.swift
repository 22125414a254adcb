import FileSyncCore
import FileSyncSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One client's history, `<root>/.filesync/<client-id>/history/`:
///
/// - `packs/<sha256>.pack`: chunks the latest tree no longer holds (see ``PackWriter``);
/// - `index.sqlite`: where each packed chunk is, a cache rebuilt from the packs (``PackIndex``);
/// - `trees/<2 hex>/<sha256>`: one ``TreeObject`` per distinct folder listing;
/// - `snapshots/<id>.json`: one ``SnapshotRecord`` per snapshot.
///
/// Every object is immutable once named and named by its content (snapshots by their id), so the
/// layout could move to an object store. Calls are synchronous and block on the disk: run them on a
/// storage thread. One writer per client at a time (the session or the pruner, never both).
final class HistoryStore: Sendable {
    /// The client's plain tree, `<root>/<client-id>`.
    let plainTreePath: String
    /// `<root>/.filesync/<client-id>/history`.
    let path: String
    /// `<root>/.filesync/<client-id>`, the client's state folder.
    let statePath: String
    let packsPath: String
    let treesPath: String
    let snapshotsPath: String
    let index: PackIndex

    /// Opens (creating its folders, 0700) the history of `id` under the server root `root`.
    init(root: String, id: ClientID) throws {
        plainTreePath = root + "/" + id.string
        let state = ClientStateDirectory(root: root, id: id)
        path = state.history
        statePath = state.path
        packsPath = path + "/packs"
        treesPath = path + "/trees"
        snapshotsPath = path + "/snapshots"
        for folder in [ClientStateDirectory.stateRoot(root), state.path, path, packsPath, treesPath, snapshotsPath] {
            close(try HistoryIO.openDirectory(folder, create: true))
        }
        index = try PackIndex(path: path + "/index.sqlite", packsPath: packsPath)
    }

    // MARK: - Trees

    /// The folder and file name of the tree object `hash`.
    func treeLocation(_ hash: ChunkHash) -> (folder: String, name: String) {
        let hex = hash.description
        return (treesPath + "/" + String(hex.prefix(2)), hex)
    }

    /// The tree object `hash`, checked against its hash.
    ///
    /// - Throws: when it is missing, damaged or malformed.
    func tree(_ hash: ChunkHash) throws -> TreeObject {
        try TreeObject(decoding: object(hash, what: "tree")) { piece in
            try ChunkListObject(decoding: object(piece, what: "chunk list"))
        }
    }

    /// The bytes of the object `hash` in `trees/` (a tree or a chunk list), checked against its hash.
    private func object(_ hash: ChunkHash, what: String) throws -> [UInt8] {
        let (folder, name) = treeLocation(hash)
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw FileSyncError(.storageFailed, "\(what) \(hash) is missing") }
        defer { close(fd) }
        guard let bytes = try HistoryIO.readWhole(named: name, in: fd, display: folder) else {
            throw FileSyncError(.storageFailed, "\(what) \(hash) is missing")
        }
        guard bytes.withUnsafeBytes({ ChunkHash(of: $0) }) == hash else {
            throw FileSyncError(.storageFailed, "\(what) \(hash) is damaged (its bytes hash differently)")
        }
        return bytes
    }

    /// Whether the object `hash` (a tree or a chunk list) is on disk and its bytes hash to its name.
    func isIntact(_ hash: ChunkHash) -> Bool {
        (try? object(hash, what: "object")) != nil
    }

    /// Whether the tree object `hash` is on disk (not checked).
    func hasTree(_ hash: ChunkHash) -> Bool {
        let (folder, name) = treeLocation(hash)
        return access(folder + "/" + name, F_OK) == 0
    }

    /// Every tree object on disk, by hash.
    func allTrees() -> [ChunkHash] {
        let fd = open(treesPath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var hashes: [ChunkHash] = []
        for folder in HistoryIO.names(in: fd) where folder.utf8.count == 2 {
            let sub = openat(fd, folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard sub >= 0 else { continue }
            defer { close(sub) }
            for name in HistoryIO.names(in: sub) {
                guard let bytes = [UInt8](hex: name), bytes.count == ChunkHash.byteCount else { continue }
                hashes.append(bytes.withUnsafeBytes { ChunkHash(bytes: $0)! })
            }
        }
        return hashes
    }

    // MARK: - Snapshots

    /// The snapshots on disk, oldest first (by ``SnapshotRecord/sequence``). A file that does not
    /// decode or is not complete is left out and named in `unreadable`.
    func snapshots() throws -> (records: [SnapshotRecord], unreadable: [String]) {
        let fd = try HistoryIO.openDirectory(snapshotsPath, create: false)
        defer { close(fd) }
        var records: [SnapshotRecord] = []
        var unreadable: [String] = []
        for name in HistoryIO.names(in: fd) where SnapshotRecord.isFileName(name) {
            guard let bytes = try? HistoryIO.readWhole(named: name, in: fd, display: snapshotsPath),
                let record = try? JSONDecoder().decode(SnapshotRecord.self, from: Data(bytes)),
                record.complete, record.id + ".json" == name
            else {
                unreadable.append(name)
                continue
            }
            records.append(record)
        }
        records.sort { ($0.sequence, $0.id) < ($1.sequence, $1.id) }
        return (records, unreadable)
    }

    /// The newest snapshot, if any.
    func latestSnapshot() throws -> SnapshotRecord? { try snapshots().records.last }

    /// Writes `record` durably as `snapshots/<id>.json` (replacing a previous version atomically).
    func write(_ record: SnapshotRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let bytes = Array(try encoder.encode(record))
        let fd = try HistoryIO.openDirectory(snapshotsPath, create: false)
        defer { close(fd) }
        try HistoryIO.writeDurably(bytes, named: record.id + ".json", in: fd, display: snapshotsPath)
    }

    /// Sets or clears the ``SnapshotRecord/protected`` reason of the snapshot `id`.
    func setProtection(of id: String, reason: String?) throws {
        guard var record = try snapshots().records.first(where: { $0.id == id }) else {
            throw FileSyncError(.storageFailed, "no snapshot \(id)")
        }
        record.protected = reason
        try write(record)
    }

    /// The ransomware guard, for the session to call right after it recorded `latest`: when that run
    /// changed or deleted more than half the files of the snapshot before it, that snapshot is
    /// marked protected, unless such a run made it too
    /// (``RetentionPolicy/protectionTarget(latest:previous:beforePrevious:earlierProtected:comparedInFull:)``), so
    /// retention keeps it until an admin prunes by hand. `comparedInFull` is false when the run could not read some
    /// of the previous snapshot's trees: the files it could not compare then count as changed.
    ///
    /// - Returns: the protected snapshot's id and the reason, for the log; `nil` when nothing was done.
    @discardableResult
    func protectBeforeDamage(
        after latest: SnapshotRecord, comparedInFull: Bool = true
    ) throws -> (id: String, reason: String)? {
        let records = try snapshots().records
        guard let position = records.firstIndex(where: { $0.id == latest.id }), position > 0,
            let target = RetentionPolicy.protectionTarget(
                latest: latest, previous: records[position - 1],
                beforePrevious: position > 1 ? records[position - 2] : nil,
                earlierProtected: records[..<(position - 1)].contains { $0.protected != nil },
                comparedInFull: comparedInFull)
        else { return nil }
        try setProtection(of: target.id, reason: target.reason)
        return target
    }

    /// Deletes the snapshot files of `ids` and syncs the folder.
    func deleteSnapshots(_ ids: [String]) throws {
        let fd = try HistoryIO.openDirectory(snapshotsPath, create: false)
        defer { close(fd) }
        for id in ids where unlinkat(fd, id + ".json", 0) != 0 && errno != ENOENT {
            throw FileSyncError.storage("delete snapshot", id)
        }
        try HistoryIO.syncDirectory(fd, display: snapshotsPath)
    }
}
