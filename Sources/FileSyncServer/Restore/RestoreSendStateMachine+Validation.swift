import FileSyncCore
import Foundation

extension RestoreSendStateMachine {
    /// Whether a file's chunk list travels in `RESTORE_LIST` (and so may be asked by chunk): files of
    /// at least 1 MiB whose list has at most 65,536 chunks (Protocol.md §11.3).
    public static func listsChunks(_ entry: SnapshotEntry) -> Bool {
        entry.kind == .file && entry.size >= ProtocolLimits.chunkedMinimumSize && !entry.chunks.isEmpty
            && entry.chunks.count <= RestoreEntry.maxChunks
    }

    /// The requested paths, validated: not both `snapshot` and `at` (`malformedMessage`), at most
    /// 1,000 paths (`limitExceeded`), each valid (`invalidPath`).
    static func validate(_ request: Restore) throws -> [RelativePath] {
        guard request.snapshot == nil || request.at == nil else {
            throw FileSyncError(.malformedMessage, "RESTORE names both a snapshot and a time")
        }
        guard request.paths.count <= Restore.maxPaths else {
            throw FileSyncError(
                .limitExceeded, "RESTORE names \(request.paths.count) paths; at most \(Restore.maxPaths) are allowed")
        }
        return try request.paths.map { try RelativePath(validating: $0) }
    }

    /// The snapshot a request names: by id, the newest at or before `at`, or the newest. `snapshots`
    /// is oldest first, in the order the history recorded them (two snapshots of one second, or a
    /// clock set back, cannot reorder them).
    static func choose(_ request: Restore, among snapshots: [SnapshotDescription]) throws -> SnapshotDescription {
        let found: SnapshotDescription?
        if let id = request.snapshot {
            found = snapshots.first { $0.id == id }
        } else if let at = request.at {
            found = snapshots.last { $0.time <= at }
        } else {
            found = snapshots.last
        }
        guard let found else {
            let what =
                request.snapshot.map { "snapshot \($0)" } ?? request.at.map {
                    "snapshot at or before \(SnapshotRecord.format(Date(timeIntervalSince1970: Double(min(max($0, 0), 253_402_300_799)))))"
                }
                ?? "snapshot"
            throw FileSyncError(.notFound, "no \(what) for this client")
        }
        return found
    }

    /// Keeps the loaded entries (each path once) and returns the `RESTORE_LIST` parts; a requested
    /// path the snapshot does not hold is `notFound`.
    mutating func list(
        _ loaded: [SnapshotEntry], requested: [RelativePath], unreadable named: [String] = []
    ) throws -> [RestoreList] {
        var once = Set<String>()
        let unreadable = named.filter { once.insert($0).inserted }
        // Each path's worst case in JSON (every byte escaped as \u00XX), within one part's budget.
        let bytes = unreadable.reduce(0) { $0 + 6 * $1.utf8.count + 3 }
        guard unreadable.count <= RestoreList.maxUnreadable, bytes <= maxPartBytes - 1_024 else {
            throw FileSyncError(
                .storageFailed,
                "the snapshot's listing of \(unreadable.count) folders cannot be read: run filesync-server check")
        }
        var seen = Set<String>()
        // A client without `metadata` gets the snapshot's files and folders, as before symlinks.
        entries = loaded.filter {
            (symlinks || $0.kind != .symlink) && (specials || $0.kind != .special) && seen.insert($0.path).inserted
        }
        // A requested path that could not be read is named in the list, not unknown.
        for path in requested where !seen.contains(path.string) && !unreadable.contains(path.string) {
            throw FileSyncError(.notFound, "snapshot \(chosen!.id) holds nothing at \"\(path)\"")
        }
        // Owners are a field of `metadata`, like symlinks.
        // Files of one inode and content were one file's names: the later ones are listed as links.
        // (A name whose content is named by its chunks and one named by its whole SHA-256 are one
        // content when their chunks are the same.)
        var firstNames: [UInt64: (path: String, sha256: String?, chunks: [ChunkEntry])] = [:]
        let listed = try entries.map { entry in
            if hardlinks, entry.kind == .file, let inode = entry.inode {
                if let first = firstNames[inode],
                    first.sha256 == entry.sha256 || (!first.chunks.isEmpty && first.chunks == entry.chunks)
                {
                    var link = RestoreEntry(
                        path: entry.path, type: "hardlink", size: 0, mtimeNs: entry.mtimeNs, mode: entry.mode,
                        target: first.path)
                    (link.uid, link.gid) = (entry.uid, entry.gid)
                    return link
                }
                firstNames[inode] = (entry.path, entry.sha256, entry.chunks)
            }
            var listed = try Self.restoreEntry(entry)
            if symlinks { (listed.uid, listed.gid) = (entry.uid, entry.gid) }
            if xattrs && !entry.xattrs.isEmpty { listed.xattrs = entry.xattrs }
            return listed
        }
        let ranges = Self.partRanges(listed, maxBytes: maxPartBytes)
        var parts = ranges.enumerated().map { index, range in
            RestoreList(snapshot: chosen!, entries: Array(listed[range]), final: index == ranges.count - 1)
        }
        // The folders that could not be read go in a final part of their own (checked above to
        // fit one part's budget).
        if !unreadable.isEmpty {
            for index in parts.indices { parts[index].final = false }
            parts.append(RestoreList(snapshot: chosen!, entries: [], final: true, unreadable: unreadable))
        }
        return parts
    }

    /// The wire form of an entry: chunks only where ``listsChunks(_:)`` allows them.
    static func restoreEntry(_ entry: SnapshotEntry) throws -> RestoreEntry {
        switch entry.kind {
        case .directory:
            return RestoreEntry(path: entry.path, type: "dir", size: 0, mtimeNs: entry.mtimeNs, mode: entry.mode)
        case .special:
            var listed = RestoreEntry(
                path: entry.path, type: "special", size: 0, mtimeNs: entry.mtimeNs, mode: entry.mode)
            (listed.special, listed.device) = (entry.special, entry.device)
            return listed
        case .symlink:
            return RestoreEntry(
                path: entry.path, type: "symlink", size: entry.size, mtimeNs: entry.mtimeNs, mode: entry.mode,
                target: entry.target)
        case .file:
            guard let sha256 = entry.sha256 else {
                throw FileSyncError(.internalError, "the snapshot's entry \"\(entry.path)\" has no SHA-256")
            }
            let chunks =
                listsChunks(entry)
                ? entry.chunks.map { RestoreChunk(length: $0.length, sha256: $0.hash.description) } : nil
            var listed = RestoreEntry(
                path: entry.path, type: "file", size: entry.size, mtimeNs: entry.mtimeNs, mode: entry.mode,
                sha256: sha256, chunks: chunks)
            if entry.digestsChunks {
                guard chunks != nil else {
                    throw FileSyncError(.internalError, "\"\(entry.path)\" is named by more chunks than a list holds")
                }
                listed.digest = RestoreEntry.chunkListDigest
            }
            return listed
        }
    }

    /// Consecutive parts of at most 10,000 entries and `maxBytes` of worst-case JSON each (a chunk
    /// costs at most 90 bytes: `[1048576,"<64 hex>"],`, a symlink target byte 6); always at least one,
    /// possibly empty.
    static func partRanges(_ listed: [RestoreEntry], maxBytes: Int) -> [Range<Int>] {
        var parts: [Range<Int>] = []
        var start = 0
        var bytes = 0
        for (index, entry) in listed.enumerated() {
            let size =
                MessageParts.worstCaseBytes(ofPath: entry.path) + 100 + (entry.chunks?.count ?? 0) * 90
                + (entry.target?.utf8.count ?? 0) * 6 + 40 + (entry.xattrs?.encodedBytes ?? 0) * 6
            if index > start && (index - start >= RestoreList.maxEntriesPerPart || bytes + size > maxBytes) {
                parts.append(start..<index)
                start = index
                bytes = 0
            }
            bytes += size
        }
        parts.append(start..<listed.count)
        return parts
    }

    /// Checks one `RESTORE_WANT` part and keeps its files (§11.3): at most 10,000 (`limitExceeded`);
    /// entry numbers strictly increasing across parts, of files; a nonzero offset below the size or
    /// chunk indices strictly increasing into the listed chunks, not both (`malformedMessage`).
    mutating func accept(_ part: RestoreWant) throws {
        guard part.files.count <= RestoreWant.maxFilesPerPart else {
            throw FileSyncError(
                .limitExceeded,
                "RESTORE_WANT part of \(part.files.count) files; at most \(RestoreWant.maxFilesPerPart) are allowed")
        }
        for want in part.files {
            guard want.entry > lastWanted, want.entry < entries.count else {
                throw Self.malformed("entry \(want.entry) is out of range or not after entry \(lastWanted)")
            }
            let entry = entries[want.entry]
            guard entry.kind == .file else { throw Self.malformed("entry \(want.entry) is not a file") }
            guard want.offset == nil || want.chunks == nil else {
                throw Self.malformed("entry \(want.entry) names both an offset and chunks")
            }
            if let offset = want.offset, offset <= 0 || offset >= entry.size {
                throw Self.malformed("offset \(offset) of entry \(want.entry) is not within 1 … \(entry.size - 1)")
            }
            if let chunks = want.chunks { try Self.checkChunks(chunks, of: entry, number: want.entry) }
            lastWanted = want.entry
        }
        wants.append(contentsOf: part.files)
    }

    private static func checkChunks(_ chunks: [Int], of entry: SnapshotEntry, number: Int) throws {
        guard listsChunks(entry) else { throw malformed("entry \(number) has no chunk list to choose from") }
        guard !chunks.isEmpty else { throw malformed("entry \(number) asks for an empty list of chunks") }
        var previous = -1
        for index in chunks {
            guard index > previous, index < entry.chunks.count else {
                throw malformed("chunk \(index) of entry \(number) is out of range or not after \(previous)")
            }
            previous = index
        }
    }

    private static func malformed(_ message: String) -> FileSyncError {
        FileSyncError(.malformedMessage, "RESTORE_WANT: " + message)
    }
}
