import FileSyncCore
import FileSyncSystem
import Foundation
import TestSupport
import Testing

@testable import FileSyncServer

#if canImport(Glibc)
    import Glibc
#endif

/// A server root in a new temporary folder with one client, `c`, its plain tree and its history.
struct HistoryFixture {
    let root: String
    let tree: String
    let id: ClientID
    var store: HistoryStore

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("history-\(UUID().uuidString)").path
        id = try ClientID(validating: "c")
        tree = root + "/c"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        store = try HistoryStore(root: root, id: id)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// Opens the history again, as a restarted server would (the index is reconciled).
    mutating func reopen() throws { store = try HistoryStore(root: root, id: id) }

    /// Writes `bytes` at `path` of the plain tree, creating folders.
    func write(_ path: String, _ bytes: [UInt8]) throws {
        let url = URL(fileURLWithPath: tree + "/" + path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    /// Replaces the file at `path` as the server does: new content in a file outside the tree,
    /// preserved old content first, then a rename over it.
    func replace(_ path: String, with bytes: [UInt8]) throws -> Preserver.Outcome {
        let staging = root + "/staging-" + UUID().uuidString
        try Data(bytes).write(to: URL(fileURLWithPath: staging))
        let fd = open(staging, O_RDONLY)
        defer { close(fd) }
        let cut = try HistoryChunking.cut(fd, size: Int64(bytes.count))
        let outcome = try Preserver(store: store).preserve(
            relativePath: path, keeping: Set(cut.chunks.map(\.hash)))
        #expect(rename(staging, tree + "/" + path) == 0)
        return outcome
    }

    /// Deletes the file at `path` as the server does: preserved first.
    func delete(_ path: String) throws {
        try Preserver(store: store).preserve(relativePath: path, keeping: [])
        #expect(unlink(tree + "/" + path) == 0)
    }

    func snapshot(at seconds: Double = 1_800_000_000) throws -> SnapshotBuilder.Result {
        try SnapshotBuilder(store: store).build(now: Date(timeIntervalSince1970: seconds))
    }

    /// The content of the file at `path` in `record`, checked against its SHA-256.
    func restore(_ path: String, from record: SnapshotRecord) throws -> [UInt8] {
        guard let file = try store.entry(at: path, in: record)?.file else {
            throw FileSyncError(.storageFailed, "no file \(path) in \(record.id)")
        }
        return try ContentResolver(store: store).contents(of: file, at: path)
    }

    /// Every file of `record` restored, by path.
    func restoreAll(_ record: SnapshotRecord) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        try store.forEachEntry(in: record) { path, entry in
            if let file = entry.file { files[path] = try ContentResolver(store: store).contents(of: file, at: path) }
        }
        return files
    }

    static func sha256(_ bytes: [UInt8]) -> ChunkHash { bytes.withUnsafeBytes { ChunkHash(of: $0) } }

    /// Ten one-byte files, the first `inFolder` of them in the folder `d`, then a snapshot whose
    /// tree object for `d` is then deleted: that snapshot's listing of `d` cannot be read.
    func snapshotWithUnreadableFolder(filesInFolder inFolder: Int) throws -> SnapshotBuilder.Result {
        for file in 0..<10 { try write(file < inFolder ? "d/f\(file)" : "f\(file)", [UInt8(file)]) }
        let first = try snapshot()
        guard case .folder(let hash)? = try store.entry(at: "d", in: first.record)?.content else {
            throw FileSyncError(.storageFailed, "no folder d in the snapshot")
        }
        let location = store.treeLocation(hash)
        guard unlink(location.folder + "/" + location.name) == 0 else {
            throw FileSyncError(.storageFailed, "cannot delete the tree of d")
        }
        return first
    }
}
