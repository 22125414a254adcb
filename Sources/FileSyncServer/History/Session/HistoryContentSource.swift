import FileSyncCore
import Foundation
import NIOCore
import Synchronization

/// The history engine as a restore session sees it (``SnapshotContentSource``): one client's
/// snapshots, their entries, and their content chunk by chunk: from a pack, checked against its
/// hash, or in place from the plain file while it is the one the snapshot took, which the client
/// checks (Protocol.md §11.5).
///
/// It remembers the files of the entries it listed (their identity in the plain tree lets a chunk
/// be read in place) and keeps the sources of the file being sent open between calls, so that a
/// large file is not cut again for every block.
final class HistoryContentSource: SnapshotContentSource {
    private let store: HistoryStore
    private let state = Mutex(State())

    private struct State {
        var files: [String: FileContent] = [:]
        var open: OpenFile?
        var lastChunk: (path: String, index: Int, bytes: [UInt8])?
    }

    /// The file being sent: its sources, and where each chunk starts (one past the last: the size).
    private struct OpenFile {
        var path: String
        var sources: ContentResolver.Sources
        var starts: [Int64]

        init(store: HistoryStore, path: String, file: FileContent) {
            self.path = path
            sources = ContentResolver.Sources(store: store, relativePath: path, file: file)
            sources.trustsUnchangedPlainFile = true
            var starts = [Int64(0)]
            starts.reserveCapacity(file.chunks.count + 1)
            for chunk in file.chunks { starts.append(starts[starts.count - 1] + Int64(chunk.length)) }
            self.starts = starts
        }

        /// The index of the chunk holding byte `offset` (binary search).
        func chunk(holding offset: Int64) -> Int {
            var low = 0
            var high = starts.count - 1
            while low < high {
                let middle = (low + high) / 2
                if starts[middle + 1] <= offset { low = middle + 1 } else { high = middle }
            }
            return low
        }
    }

    init(store: HistoryStore) {
        self.store = store
    }

    deinit {
        state.withLock { $0.open?.sources.close() }
    }

    func snapshotDescriptions() throws -> [SnapshotDescription] {
        try store.snapshots().records.map(\.wireForm)
    }

    func entries(ofSnapshot id: String, under paths: [RelativePath]) throws -> [SnapshotEntry] {
        try list(id, under: paths, tolerating: false).entries
    }

    func readableEntries(ofSnapshot id: String, under paths: [RelativePath]) throws -> SnapshotListing {
        try list(id, under: paths, tolerating: true)
    }

    /// The entries of snapshot `id` under `paths`; `tolerating`, a folder or requested path that
    /// cannot be read is named as unreadable instead of failing the list (the top folder still does).
    private func list(_ id: String, under paths: [RelativePath], tolerating: Bool) throws -> SnapshotListing {
        guard let record = try store.snapshots().records.first(where: { $0.id == id }) else {
            throw FileSyncError(.notFound, "no snapshot \(id)")
        }
        guard let root = record.rootTreeHash else {
            throw FileSyncError(.storageFailed, "snapshot \(record.id) has a malformed root tree hash")
        }
        var listing = SnapshotListing(entries: [])
        var files: [String: FileContent] = [:]
        func add(_ path: String, _ entry: TreeEntry) {
            guard let converted = SnapshotEntry(path: path, entry) else { return }
            if let file = entry.file { files[path] = file }
            listing.entries.append(converted)
        }
        var unreadable: [String]? = tolerating ? [] : nil
        // Nothing can be listed without the top folder: that fails the list, paths asked or not.
        _ = try store.tree(root)
        if paths.isEmpty {
            try store.forEachEntry(below: root, prefix: "", unreadable: &unreadable, add)
        } else {
            for path in paths {
                let found: TreeEntry?
                do {
                    found = try store.entry(at: path.string, in: record)
                } catch  where tolerating {
                    unreadable?.append(path.string)
                    continue
                }
                guard let entry = found else { continue }
                try addParents(
                    of: path.string, in: record, to: &listing.entries, seen: Set(listing.entries.map(\.path)))
                add(path.string, entry)
                if case .folder(let hash) = entry.content {
                    try store.forEachEntry(below: hash, prefix: path.string, unreadable: &unreadable, add)
                }
            }
        }
        listing.unreadable = unreadable ?? []
        state.withLock { $0.files.merge(files) { $1 } }
        return listing
    }

    func chunk(_ index: Int, of entry: SnapshotEntry) throws -> [UInt8] {
        try state.withLock { state in try Self.chunk(index, of: entry, store: store, state: &state) }
    }

    func bytes(of entry: SnapshotEntry, at offset: Int64, count: Int) throws -> [UInt8] {
        try state.withLock { state in
            var result: [UInt8] = []
            result.reserveCapacity(count)
            try Self.open(entry, store: store, state: &state)
            var index = state.open!.chunk(holding: offset)
            while result.count < count, index < entry.chunks.count {
                let bytes = try Self.chunk(index, of: entry, store: store, state: &state)
                let from = Int(offset + Int64(result.count) - state.open!.starts[index])
                let take = min(bytes.count - from, count - result.count)
                result += bytes[from..<(from + take)]
                index += 1
            }
            guard result.count == count else {
                throw FileSyncError(.storageFailed, "\"\(entry.path)\" ends before byte \(offset + Int64(count))")
            }
            return result
        }
    }

    func read(_ entry: SnapshotEntry, at offset: Int64, count: Int, into buffer: inout ByteBuffer) throws {
        let inPlace = try state.withLock { state in
            try Self.open(entry, store: store, state: &state)
            return state.open!.sources.readInPlace(at: offset, count: count, into: &buffer)
        }
        if !inPlace { buffer.writeBytes(try bytes(of: entry, at: offset, count: count)) }
    }

    /// Makes `entry` the open file, unless it is already.
    private static func open(_ entry: SnapshotEntry, store: HistoryStore, state: inout State) throws {
        guard state.open?.path != entry.path else { return }
        guard let file = state.files[entry.path] else {
            throw FileSyncError(.storageFailed, "\"\(entry.path)\" is not a file of the listed snapshot")
        }
        state.open?.sources.close()
        state.open = OpenFile(store: store, path: entry.path, file: file)
    }

    private static func chunk(
        _ index: Int, of entry: SnapshotEntry, store: HistoryStore, state: inout State
    ) throws -> [UInt8] {
        if let last = state.lastChunk, last.path == entry.path, last.index == index { return last.bytes }
        try open(entry, store: store, state: &state)
        guard let file = state.files[entry.path], index < file.chunks.count else {
            throw FileSyncError(.storageFailed, "chunk \(index) of \"\(entry.path)\" is not in the listed snapshot")
        }
        let offset = state.open!.starts[index]
        guard let bytes = try state.open?.sources.chunk(file.chunks[index], at: offset) else {
            throw FileSyncError(.storageFailed, "chunk \(index) of \"\(entry.path)\" is missing or damaged")
        }
        state.lastChunk = (entry.path, index, bytes)
        return bytes
    }

    /// The folders above `path`, parents first, unless already listed.
    private func addParents(
        of path: String, in record: SnapshotRecord, to entries: inout [SnapshotEntry], seen: Set<String>
    ) throws {
        var prefix = ""
        for component in path.split(separator: "/").dropLast() {
            prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
            guard !seen.contains(prefix), let entry = try store.entry(at: prefix, in: record),
                let converted = SnapshotEntry(path: prefix, entry)
            else { continue }
            entries.append(converted)
        }
    }
}

extension SnapshotEntry {
    /// The restore form of a tree entry, with its owner; `nil` for a symlink whose target is not
    /// UTF-8 (no client sends one).
    init?(path: String, _ entry: TreeEntry) {
        guard let converted = SnapshotEntry(path: path, content: entry) else { return nil }
        self = converted
        (uid, gid) = (entry.uid, entry.gid)
        xattrs = entry.xattrs
    }

    private init?(path: String, content entry: TreeEntry) {
        switch entry.content {
        case .file(let file):
            self.init(
                path: path, kind: .file, size: entry.size, mtimeNs: entry.mtimeNs, mode: entry.mode,
                sha256: (file.sha256 ?? file.chunkListDigest).description, chunks: file.chunks)
            digestsChunks = file.sha256 == nil
            inode = file.inode
        case .folder:
            self.init(path: path, kind: .directory, size: 0, mtimeNs: entry.mtimeNs, mode: entry.mode)
        case .special(let kind, let device):
            self.init(path: path, kind: .special, size: 0, mtimeNs: entry.mtimeNs, mode: entry.mode)
            (special, self.device) = (kind, kind.isDevice ? device : nil)
        case .symlink(let bytes):
            guard let target = String(validating: bytes, as: UTF8.self), !bytes.isEmpty else { return nil }
            self.init(
                path: path, kind: .symlink, size: Int64(bytes.count), mtimeNs: entry.mtimeNs, mode: entry.mode,
                target: target)
        }
    }
}

extension SnapshotRecord {
    /// The wire form of this snapshot (Protocol.md §11.2).
    var wireForm: SnapshotDescription {
        SnapshotDescription(
            id: id, time: Int64(date.timeIntervalSince1970), files: files, bytes: bytes, added: added,
            changed: changed, deleted: deleted, protected: protected, failed: failed)
    }
}

extension HistoryStore {
    /// Calls `body` with every entry below the folder tree `hash` (the folder at `prefix`, "" for
    /// the top one), folders before what they hold. With `unreadable` not `nil`, a folder below the
    /// top one whose tree cannot be read is appended to it and skipped; otherwise, and for the top
    /// folder, the error is thrown.
    func forEachEntry(
        below hash: ChunkHash, prefix: String, unreadable: inout [String]?, _ body: (String, TreeEntry) throws -> Void
    ) throws {
        let tree: TreeObject
        do {
            tree = try self.tree(hash)
        } catch  where unreadable != nil && !prefix.isEmpty {
            unreadable?.append(prefix)
            return
        }
        for entry in tree.entries {
            let path = prefix.isEmpty ? entry.name : prefix + "/" + entry.name
            try body(path, entry)
            if case .folder(let child) = entry.content {
                try forEachEntry(below: child, prefix: path, unreadable: &unreadable, body)
            }
        }
    }
}
