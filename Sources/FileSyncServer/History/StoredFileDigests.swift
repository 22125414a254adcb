import FileSyncCore
import FileSyncSystem

/// The SHA-256 of each small file a backup session stored, with the file's identity once it was in
/// place (inode, status-change time, size, mtime): the session checked every byte against that hash
/// before writing them, so the snapshot recorded after the session names the file by it instead of
/// opening, reading and hashing it again (``SnapshotBuilder``).
///
/// A file changed since it was stored (written, renamed over, given another mode, owner or extended
/// attribute) has another inode or status-change time, matches nothing here, and is read as usual.
/// This relies on the status-change time moving with every change, as the previous snapshot's and
/// the chunk catalog's identities do (on a filesystem with coarse timestamps, a rewrite of the same
/// size that also restores the mtime within one clock tick would go unseen by all three).
/// Only files the history keeps as one chunk (under ``HistoryChunking/singleChunkLimit``) are noted:
/// larger ones are described by their chunks, which the chunk catalog holds.
struct StoredFileDigests: Sendable {
    /// What is kept of one file: 56 bytes, keyed by inode.
    struct Digest: Sendable, Equatable {
        var size: Int64
        var mtimeNs: Int64
        var ctimeNs: Int64
        var sha256: ChunkHash
    }

    /// At most this many files are noted: the most a dictionary of 2^17 slots holds (it fills
    /// three quarters), 8 MiB of 64-byte slots; the snapshot reads the others as before.
    static let limit = 98_304

    private var byInode: [UInt64: Digest] = [:]

    init() {}

    /// How many files are noted.
    var count: Int { byInode.count }

    /// Notes the file whose status once in place is `status` and whose content hashes to `sha256`.
    /// A later note of the same inode replaces the earlier one.
    mutating func note(_ status: FileStatus, sha256: ChunkHash) {
        guard status.kind == .file, status.size < Int64(HistoryChunking.singleChunkLimit) else { return }
        guard byInode.count < Self.limit || byInode[status.inode] != nil else { return }
        byInode[status.inode] = Digest(
            size: status.size, mtimeNs: status.mtimeNs, ctimeNs: status.ctimeNs, sha256: sha256)
    }

    /// The content of the file `status` describes, if it is a noted file unchanged since.
    func content(of status: FileStatus) -> FileContent? {
        guard status.kind == .file, let digest = byInode[status.inode],
            digest == Digest(size: status.size, mtimeNs: status.mtimeNs, ctimeNs: status.ctimeNs, sha256: digest.sha256)
        else { return nil }
        // As ``HistoryChunking/cut(_:size:_:)`` describes a small file: one chunk named by the
        // file's SHA-256, none for an empty file.
        let chunks = status.size > 0 ? [ChunkEntry(length: Int(status.size), hash: digest.sha256)] : []
        return FileContent(sha256: digest.sha256, chunks: chunks, inode: status.inode, ctimeNs: status.ctimeNs)
    }
}
