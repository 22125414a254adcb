import FileSyncCore
import FileSyncSystem

/// One entry of a folder in a snapshot: a file, a folder or a symlink, with the metadata a restore
/// applies and what it needs to find the content.
struct TreeEntry: Sendable, Equatable {
    /// The entry's name in its folder (one path component).
    var name: String
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var mtimeNs: Int64
    /// The file's length; 0 for folders; the target's length for symlinks.
    var size: Int64
    var content: Content
    /// The extended attributes (and POSIX ACLs) the stored file or folder held, sorted by name.
    var xattrs: [ExtendedAttribute] = []

    /// What the entry is, with what is specific to its kind.
    enum Content: Sendable, Equatable {
        case file(FileContent)
        /// The hash of the folder's own tree object.
        case folder(ChunkHash)
        /// The link's target, as the bytes `readlink` returned (never followed).
        case symlink([UInt8])
        /// A FIFO, socket or device, and a device's number (0 for the others); never opened.
        case special(SpecialKind, UInt64)
    }

    /// The kind's code in the encoding.
    var kindCode: UInt8 {
        switch content {
        case .file(let file): file.sha256 == nil ? 5 : 1
        case .folder: 2
        case .symlink: 3
        case .special: 4
        }
    }

    /// Whether `other` is of the same kind: a file is a file however its content is named (kind 1
    /// or 5), so that a file named anew is a changed file, never a deleted and added one.
    func isSameKind(as other: TreeEntry) -> Bool {
        switch (content, other.content) {
        case (.file, .file), (.folder, .folder), (.symlink, .symlink), (.special, .special): true
        default: false
        }
    }

    /// The file's content, when the entry is a file.
    var file: FileContent? {
        if case .file(let file) = content { return file }
        return nil
    }
}

/// A file's content in a snapshot: its SHA-256, its chunks, and the identity the plain file had on
/// the server when it was taken (so the next snapshot can tell an unchanged file without reading it,
/// and the resolver can read its chunks in place while it is still that file).
///
/// The identity is part of the encoding: an unchanged file keeps it, so an unchanged folder still
/// encodes to the same bytes and hash.
struct FileContent: Sendable, Equatable {
    /// The whole content's SHA-256; `nil` for a large file stored from chunks that were each checked
    /// against their hash as they arrived, with nobody hashing the whole: its chunk list is then
    /// what names its content (a restore lists it by its chunk-list digest, Protocol.md §11.3).
    var sha256: ChunkHash?
    /// In file order; their lengths add up to the entry's size. Empty for an empty file.
    var chunks: [ChunkEntry]
    /// The plain file's inode when the snapshot was taken.
    var inode: UInt64
    /// The plain file's status-change time then, in nanoseconds.
    var ctimeNs: Int64
    /// How a tree that was read held the list: inline (`true`) or in pieces (`false`), kept so that
    /// the entry encodes to the same bytes again (trees written before lists were split hold long
    /// lists inline). `nil` for a new entry: a list of more than ``ChunkListObject/inlineLimit``
    /// chunks is split. Not part of the content: ignored by `==`.
    var listStoredInline: Bool? = nil

    /// Whether the entry's list is encoded in pieces (``ChunkListObject``).
    var listInPieces: Bool { listStoredInline.map { !$0 } ?? ChunkListObject.isSplit(chunks) }

    static func == (lhs: FileContent, rhs: FileContent) -> Bool {
        lhs.sha256 == rhs.sha256 && lhs.chunks == rhs.chunks && lhs.inode == rhs.inode && lhs.ctimeNs == rhs.ctimeNs
    }
}

extension FileContent {
    /// The chunk-list digest of ``chunks`` (Protocol.md §5.7).
    var chunkListDigest: ChunkHash {
        var digest = ChunkListDigest()
        for chunk in chunks { digest.add(chunk) }
        return digest.finalizeBytes().withUnsafeBytes { ChunkHash(bytes: $0)! }
    }

    /// Whether `other` holds the same content: the same whole SHA-256 when both have one, else the
    /// same chunks.
    func sameContent(as other: FileContent) -> Bool {
        if let sha256, let theirs = other.sha256 { return sha256 == theirs }
        return chunks == other.chunks
    }
}
