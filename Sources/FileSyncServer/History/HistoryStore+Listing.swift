import FileSyncCore
import FileSyncSystem

extension HistoryStore {
    /// The entry at `relativePath` in the snapshot `record` (`nil` when the snapshot has none),
    /// reading only the trees on the way.
    func entry(at relativePath: String, in record: SnapshotRecord) throws -> TreeEntry? {
        guard var hash = record.rootTreeHash else {
            throw FileSyncError(.storageFailed, "snapshot \(record.id) has a malformed root tree hash")
        }
        let components = relativePath.split(separator: "/").map(String.init)
        for (index, component) in components.enumerated() {
            guard let entry = try tree(hash).entry(named: component) else { return nil }
            if index == components.count - 1 { return entry }
            guard case .folder(let child) = entry.content else { return nil }
            hash = child
        }
        return nil
    }

    /// Calls `body` with every entry of the snapshot `record` and its relative path, folders before
    /// what they hold, in name order.
    func forEachEntry(in record: SnapshotRecord, _ body: (String, TreeEntry) throws -> Void) throws {
        guard let root = record.rootTreeHash else {
            throw FileSyncError(.storageFailed, "snapshot \(record.id) has a malformed root tree hash")
        }
        func visit(_ hash: ChunkHash, _ prefix: String) throws {
            for entry in try tree(hash).entries {
                let path = prefix.isEmpty ? entry.name : prefix + "/" + entry.name
                try body(path, entry)
                if case .folder(let child) = entry.content { try visit(child, path) }
            }
        }
        try visit(root, "")
    }
}
