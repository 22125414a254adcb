import Crypto
import FileSyncCore
import FileSyncServer

/// A snapshot store in memory: one snapshot list, and entries with their content, for the restore tests.
struct MemorySnapshotSource: SnapshotContentSource {
    var descriptions: [SnapshotDescription]
    var tree: [SnapshotEntry] = []
    var contents: [String: [UInt8]] = [:]
    /// Paths whose content reads fail, as damaged storage would.
    var damaged: Set<String> = []
    /// Whether content is handed out without checking its chunks, as a plain file unchanged since
    /// the snapshot is (Protocol.md §11.3).
    var trustsContent = false

    init(descriptions: [SnapshotDescription] = [MemorySnapshotSource.description(id: "20261201T090000Z-00000001")]) {
        self.descriptions = descriptions
    }

    static func description(id: String, time: Int64 = 1_796_115_600) -> SnapshotDescription {
        SnapshotDescription(id: id, time: time, files: 0, bytes: 0, added: 0, changed: 0, deleted: 0)
    }

    mutating func addFolder(_ path: String, mode: UInt32 = 0o750, mtimeNs: Int64 = 1_700_000_000_000_000_000) {
        tree.append(SnapshotEntry(path: path, kind: .directory, size: 0, mtimeNs: mtimeNs, mode: mode))
    }

    /// Adds a file, its chunks cut as the v1 client cuts them.
    mutating func addFile(
        _ path: String, _ bytes: [UInt8], mode: UInt32 = 0o640, mtimeNs: Int64 = 1_700_000_123_456_789_000
    ) {
        let lengths = bytes.withUnsafeBytes { ChunkCutter.standard.lengths(of: $0) }
        var chunks: [ChunkEntry] = []
        var offset = 0
        for length in lengths {
            chunks.append(
                ChunkEntry(length: length, hash: bytes[offset..<offset + length].withUnsafeBytes { ChunkHash(of: $0) }))
            offset += length
        }
        let sha256 = SHA256.hash(data: bytes).hexString
        tree.append(
            SnapshotEntry(
                path: path, kind: .file, size: Int64(bytes.count), mtimeNs: mtimeNs, mode: mode, sha256: sha256,
                chunks: chunks))
        contents[path] = bytes
    }

    /// Names the file at `path` by its chunks, as a snapshot records a file whose whole SHA-256
    /// nobody computed; returns its chunk-list digest.
    @discardableResult
    mutating func nameByChunks(_ path: String) -> String {
        let index = tree.firstIndex { $0.path == path }!
        var digest = ChunkListDigest()
        for chunk in tree[index].chunks { digest.add(chunk) }
        tree[index].sha256 = digest.finalize()
        tree[index].digestsChunks = true
        return digest.finalize()
    }

    func snapshotDescriptions() throws -> [SnapshotDescription] { descriptions }

    func entries(ofSnapshot id: String, under paths: [RelativePath]) throws -> [SnapshotEntry] {
        guard !paths.isEmpty else { return tree }
        return tree.filter { entry in
            paths.contains { entry.path == $0.string || entry.path.hasPrefix($0.string + "/") }
        }
    }

    func chunk(_ index: Int, of entry: SnapshotEntry) throws -> [UInt8] {
        let start = entry.chunks[..<index].reduce(0) { $0 + $1.length }
        return try bytes(of: entry, at: Int64(start), count: entry.chunks[index].length)
    }

    func bytes(of entry: SnapshotEntry, at offset: Int64, count: Int) throws -> [UInt8] {
        guard !damaged.contains(entry.path), let content = contents[entry.path] else {
            throw FileSyncError(.storageFailed, "no content for \(entry.path)")
        }
        // As the protocol asks: every listed chunk the range touches is checked against its hash.
        var start = 0
        for chunk in entry.chunks where !trustsContent {
            defer { start += chunk.length }
            guard start < Int(offset) + count, start + chunk.length > Int(offset) else { continue }
            let stored = content[start..<min(start + chunk.length, content.count)]
            guard stored.count == chunk.length, stored.withUnsafeBytes({ ChunkHash(of: $0) }) == chunk.hash else {
                throw FileSyncError(.checksumMismatch, "a damaged chunk of \(entry.path)")
            }
        }
        return Array(content[Int(offset)..<Int(offset) + count])
    }
}

/// Collects what a sender writes.
final class FrameCollector: FrameSink {
    var frames: [Frame] = []
    func write(_ frames: [Frame]) async throws { self.frames += frames }

    var messages: [Message] { frames.compactMap { $0.kind == .control ? try? Message(frame: $0) : nil } }
}
