import FileSyncCore
import FileSyncSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Records a snapshot of a client's plain tree, `<root>/<client-id>`, once a backup run completed.
///
/// The walk never follows a symlink (folders are opened with `O_NOFOLLOW` from their parent's
/// descriptor, entries are `lstat`ed) and keeps regular files, folders, symlinks and the FIFOs,
/// sockets and devices of clients with `specials` (never opened); names that are not UTF-8 are
/// skipped. The server
/// keeps no temporary or partial files in the plain tree (partials are in `.filesync/<id>/partial`,
/// new files are unnamed until linked), so there are no such names to skip.
///
/// A file whose size, mtime, inode and ctime equal those of the previous snapshot's entry keeps that
/// entry without being read; any other file is read, cut (``HistoryChunking``) and hashed, unless the
/// catalog holds what the session computed while storing it (``hints``) or, for a small file, the
/// session noted the hash it checked it against (``stored``). Chunks are not copied: the
/// plain files hold them until ``Preserver`` packs them before they change.
struct SnapshotBuilder {
    let store: HistoryStore
    /// The client's chunk catalog, when it has one: a file stored since the last snapshot and
    /// unchanged since has its chunk list and whole SHA-256 there, and is then only read for its
    /// boundaries (and hashed whole once, if it was patched in place), not hashed chunk by chunk
    /// again (``HistoryChunking/cut(_:size:expecting:sha256:)``).
    var hints: ChunkCatalog?
    /// The owners the session's manifest claimed: recorded instead of the stored copies' owners,
    /// which are the server's user's unless it applies owners.
    var owners: ClaimedOwners?
    /// The small files the session stored and the hashes it checked them against: named by those,
    /// not read, while unchanged since.
    var stored: StoredFileDigests?
    /// The devices the session could not make in the stored tree (the server lacks the privilege):
    /// recorded where nothing of that name is stored.
    var devices: RecordedDevices?

    /// A folder's version in the previous snapshot.
    struct PreviousFolder {
        /// Its tree; `nil` for a new folder, or one whose tree cannot be read.
        var tree: TreeObject?
        /// Whether its tree, or one of a folder above it, could not be read: the objects made for
        /// it are then checked on disk, not taken as present.
        var checking = false
    }

    /// What one build did.
    struct Result: Sendable {
        var record: SnapshotRecord
        /// Files read (new or changed, and not named by what the session recorded: the catalog's
        /// chunk lists, the stored files' digests); unchanged files are not read.
        var filesRead = 0
        var bytesRead: Int64 = 0
        /// New tree objects written and their bytes.
        var treeBytesWritten: Int64 = 0
        /// Trees of the previous snapshot that could not be read, and objects written again over
        /// damaged ones (a missing one is written like a new one, and not counted).
        var unreadableTrees = 0
        var objectsRepaired = 0
    }

    /// Counts gathered along the walk.
    struct Counts {
        var files = 0
        var bytes: Int64 = 0
        var added = 0
        var changed = 0
        var deleted = 0
        var filesRead = 0
        var bytesRead: Int64 = 0
        /// The content found for each file of several names, by inode: the other names take it as
        /// it is, so that all of them name their content alike (one may be cataloged, the others
        /// not) and a restore lists them as links of one file.
        var linkedContent: [UInt64: (identity: StoredFileIdentity, content: FileContent)] = [:]
        /// Trees of the previous snapshot that could not be read.
        var unreadableTrees = 0
    }

    /// Walks the plain tree, writes the new tree objects and then the snapshot file, durably.
    ///
    /// - Parameters:
    ///   - now: the snapshot's time; the server's clock (``HistoryClock``), never a client's.
    ///   - failed: files the run failed to store; more than 0 records the snapshot as partial.
    func build(now: Date = HistoryClock.now(), failed: Int = 0) throws -> Result {
        let existing = try store.snapshots().records
        let previous = existing.last
        let rootFD = try HistoryIO.openDirectory(store.plainTreePath, create: false)
        defer { close(rootFD) }
        let writer = try TreeWriter(store: store)
        var counts = Counts()
        let previousRoot = previous?.rootTreeHash.map { previousTree($0, checking: false, counts: &counts) }
        let rootHash = try folder(
            rootFD, path: "", previous: previousRoot ?? PreviousFolder(), writer: writer, counts: &counts)
        try writer.commit()
        let record = SnapshotRecord(
            id: SnapshotRecord.makeID(at: now), sequence: (previous?.sequence ?? 0) + 1,
            time: SnapshotRecord.format(now), rootTree: rootHash.description, files: counts.files,
            bytes: counts.bytes, added: counts.added, changed: counts.changed, deleted: counts.deleted,
            complete: true, protected: nil, failed: failed > 0 ? failed : nil)
        try store.write(record)
        return Result(
            record: record, filesRead: counts.filesRead, bytesRead: counts.bytesRead,
            treeBytesWritten: writer.bytesWritten, unreadableTrees: counts.unreadableTrees,
            objectsRepaired: writer.repaired)
    }

    /// The tree of the folder open as `fd`, compared with its `previous` version.
    private func folder(
        _ fd: Int32, path: String, previous folder: PreviousFolder, writer: TreeWriter, counts: inout Counts
    ) throws -> ChunkHash {
        let previous = folder.tree
        var entries: [TreeEntry] = []
        let names = HistoryIO.names(in: fd)
        for name in names {
            guard let info = HistoryIO.status(of: name, in: fd) else { continue }
            let relative = path.isEmpty ? name : path + "/" + name
            let old = previous?.entry(named: name)
            let content: TreeEntry.Content
            var size: Int64 = 0
            switch info.kind {
            case .file:
                let file = try self.file(name, in: fd, info: info, previous: old, path: relative, counts: &counts)
                content = .file(file.content)
                size = file.size
            case .directory:
                content = .folder(
                    try subfolder(
                        name, in: fd, path: relative, old: old, parent: folder, writer: writer, counts: &counts))
            case .symbolicLink:
                let target = try link(name, in: fd, info: info, path: relative)
                content = .symlink(target)
                size = Int64(target.count)
            case .other:
                // A FIFO, socket or device a client sent (`specials`): recorded, never opened.
                guard let kind = info.special else { continue }
                content = .special(kind, info.rdev)
            }
            // What the stored file or folder holds: what the server's filesystem and privileges allowed.
            let xattrs = info.kind == .symbolicLink ? [] : ExtendedAttributes.read(in: fd, name: name)
            // The client's owners; for an entry its manifest did not list, what the last snapshot said.
            let owner =
                owners?.owner(of: relative) ?? (owners == nil ? nil : old.map { .init(uid: $0.uid, gid: $0.gid) })
            let entry = TreeEntry(
                name: name, mode: info.permissions, uid: owner?.uid ?? info.uid, gid: owner?.gid ?? info.gid,
                mtimeNs: info.mtimeNs, size: size, content: content, xattrs: xattrs)
            // A folder that became a file (or the reverse) deletes what the old entry held.
            if let old, !old.isSameKind(as: entry) { try countDeleted(old, counts: &counts) }
            entries.append(entry)
        }
        try addRecordedDevices(in: path, to: &entries, previous: previous, counts: &counts)
        let kept = Set(entries.map(\.name))
        for old in previous?.entries ?? [] where !kept.contains(old.name) { try countDeleted(old, counts: &counts) }
        return try writer.add(TreeObject(entries: entries), checkingExisting: folder.checking)
    }

    /// The tree of the folder `name` in `fd`, compared with its `old` entry's version, if any.
    private func subfolder(
        _ name: String, in fd: Int32, path: String, old: TreeEntry?, parent: PreviousFolder, writer: TreeWriter,
        counts: inout Counts
    ) throws -> ChunkHash {
        let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard child >= 0 else { throw FileSyncError.storage("open the folder", path) }
        defer { close(child) }
        var previous = PreviousFolder(checking: parent.checking)
        if case .folder(let hash)? = old?.content {
            previous = previousTree(hash, checking: parent.checking, counts: &counts)
        }
        return try folder(child, path: path, previous: previous, writer: writer, counts: &counts)
    }

    /// Adds to `entries` (the stored ones of the folder at `path`) the devices recorded for it whose
    /// names nothing stored has.
    private func addRecordedDevices(
        in path: String, to entries: inout [TreeEntry], previous: TreeObject?, counts: inout Counts
    ) throws {
        guard let devices, !devices.isEmpty else { return }
        let recorded = devices.devices(inFolder: path)
        guard !recorded.isEmpty else { return }
        let stored = Set(entries.map(\.name))
        for device in recorded where !stored.contains(device.name) {
            let entry = devices.treeEntry(of: device, serverUID: getuid(), serverGID: getgid())
            if let old = previous?.entry(named: device.name), !old.isSameKind(as: entry) {
                try countDeleted(old, counts: &counts)
            }
            entries.append(entry)
        }
    }

    /// The previous snapshot's tree `hash`, when it can be read. One that cannot (missing, damaged,
    /// or a chunk-list piece of it is) has its folder walked as if new, every file in it read, and
    /// every object the walk makes there and below checked on disk rather than taken as present:
    /// the snapshot is still recorded, and what it shares with the damaged one is written again.
    private func previousTree(_ hash: ChunkHash, checking: Bool, counts: inout Counts) -> PreviousFolder {
        do {
            return PreviousFolder(tree: try store.tree(hash), checking: checking)
        } catch {
            counts.unreadableTrees += 1
            return PreviousFolder(tree: nil, checking: true)
        }
    }

    /// A regular file's content: the previous entry's when its identity is unchanged, else read.
    private func file(
        _ name: String, in fd: Int32, info: FileStatus, previous: TreeEntry?, path: String, counts: inout Counts
    ) throws -> (content: FileContent, size: Int64) {
        counts.files += 1
        let size = info.size
        counts.bytes += size
        if let previous, let old = previous.file,
            StoredFileIdentity(size: previous.size, mtimeNs: previous.mtimeNs, inode: old.inode, ctimeNs: old.ctimeNs)
                .matches(info)
        {
            noteLinks(of: info, content: old, counts: &counts)
            return (old, size)
        }
        if let content = stored?.content(of: info) {
            noteLinks(of: info, content: content, counts: &counts)
            count(content, previous: previous, mtimeNs: info.mtimeNs, counts: &counts)
            return (content, size)
        }
        let file = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard file >= 0 else { throw FileSyncError.storage("open", path) }
        defer { close(file) }
        // The identity of what is read, not of what the name showed a moment before.
        guard let opened = FileStatus.of(descriptor: file) else { throw FileSyncError.storage("stat", path) }
        let identity = StoredFileIdentity(
            size: opened.size, mtimeNs: opened.mtimeNs, inode: opened.inode, ctimeNs: opened.ctimeNs)
        let content: FileContent
        // The size the content has: what was cut (the file's, unless it changed while read).
        var stored = opened.size
        if opened.linkCount > 1, let linked = counts.linkedContent[opened.inode], linked.identity == identity {
            content = linked.content
        } else {
            let hinted = try hintedCut(of: file, path: path, info: opened)
            let cut = try hinted?.cut ?? HistoryChunking.cut(file, size: opened.size)
            if hinted?.read != false {
                counts.filesRead += 1
                counts.bytesRead += cut.size
            }
            stored = cut.size
            content = FileContent(sha256: cut.sha256, chunks: cut.chunks, inode: opened.inode, ctimeNs: opened.ctimeNs)
            if opened.linkCount > 1 { counts.linkedContent[opened.inode] = (identity, content) }
        }
        counts.bytes += stored - size
        count(content, previous: previous, mtimeNs: info.mtimeNs, counts: &counts)
        return (content, stored)
    }

    /// For a file of several names, the content its other names take as it is.
    private func noteLinks(of info: FileStatus, content: FileContent, counts: inout Counts) {
        guard info.linkCount > 1 else { return }
        let identity = StoredFileIdentity(
            size: info.size, mtimeNs: info.mtimeNs, inode: info.inode, ctimeNs: info.ctimeNs)
        counts.linkedContent[info.inode] = (identity, content)
    }

    /// Counts a file read or named anew as added, or as changed from its `previous` entry.
    private func count(_ content: FileContent, previous: TreeEntry?, mtimeNs: Int64, counts: inout Counts) {
        if let previous, let old = previous.file {
            if !old.sameContent(as: content) || previous.mtimeNs != mtimeNs { counts.changed += 1 }
        } else {
            counts.added += 1
        }
    }

    /// The cut the catalog's record of `path` gives, if it describes this very file (same size,
    /// mtime, inode and ctime) and its boundaries are this server's: taken as recorded when a
    /// `chunkerV1` client cut it (every chunk was checked against its hash as it arrived), with the
    /// whole SHA-256 if the session computed one (a file without one is named by its chunks, which a
    /// restore can list: at most ``RestoreEntry/maxChunks``); else checked against the file, and
    /// hashed whole on the way when the record has no SHA-256. `read` says whether the file was read.
    private func hintedCut(
        of fd: Int32, path: String, info: FileStatus
    ) throws -> (cut: HistoryChunking.Cut, read: Bool)? {
        guard let hints, info.size >= Int64(HistoryChunking.singleChunkLimit),
            let (record, chunks) = (try? hints.fileWithChunks(at: path)) ?? nil, record.identity.matches(info)
        else { return nil }
        if record.historyCut, record.sha256 != nil || chunks.count <= RestoreEntry.maxChunks,
            HistoryChunking.isPlausible(chunks, size: info.size)
        {
            return (HistoryChunking.Cut(sha256: record.sha256, chunks: chunks, size: info.size), false)
        }
        return try HistoryChunking.cut(fd, size: info.size, expecting: chunks, sha256: record.sha256).map { ($0, true) }
    }

    /// A symlink's target bytes (`readlinkat`; the link is never followed).
    private func link(_ name: String, in fd: Int32, info: FileStatus, path: String) throws -> [UInt8] {
        var target = [UInt8](repeating: 0, count: Int(max(info.size, 0)) + 1)
        let count = target.withUnsafeMutableBytes { readlinkat(fd, name, $0.baseAddress!, $0.count) }
        guard count >= 0 else { throw FileSyncError.storage("read the symlink", path) }
        return Array(target.prefix(count))
    }

    /// Counts the files of a previous entry that is gone (a whole folder's, recursively).
    private func countDeleted(_ entry: TreeEntry, counts: inout Counts) throws {
        switch entry.content {
        case .file: counts.deleted += 1
        case .folder(let hash):
            // An unreadable deleted folder's files cannot be counted: it counts as an unreadable tree,
            // so that the ransomware guard takes the files it could not compare as changed.
            guard let tree = try? store.tree(hash) else {
                counts.unreadableTrees += 1
                return
            }
            for child in tree.entries { try countDeleted(child, counts: &counts) }
        case .symlink, .special: break
        }
    }
}
