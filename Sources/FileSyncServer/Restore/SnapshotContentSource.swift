import Crypto
import FileSyncCore
import NIOCore

/// One entry of a stored snapshot, as the storage engine describes it to the restore sender.
public struct SnapshotEntry: Sendable, Equatable {
    /// The kinds a snapshot holds today; later kinds are added here and mapped in ``RestoreSendStateMachine``.
    public enum Kind: Sendable, Equatable {
        case file, directory, symlink
        /// A FIFO, socket or device (``SnapshotEntry/special``).
        case special
    }

    public var path: String
    public var kind: Kind
    /// Bytes; 0 for a folder.
    public var size: Int64
    public var mtimeNs: Int64
    /// Permission bits, ≤ 0o7777.
    public var mode: UInt32
    /// Lowercase hex SHA-256 of the whole content, for files; the chunk-list digest of ``chunks``
    /// when ``digestsChunks``.
    public var sha256: String?
    /// Whether ``sha256`` is the chunk-list digest (Protocol.md §5.7) of ``chunks``: the storage
    /// checked each chunk as it arrived and never hashed the whole (listed with `"digest":"chunks"`
    /// to a client with `chunkDigest`, §11.3).
    public var digestsChunks = false
    /// The file's chunks in order (length and SHA-256), when the storage knows them; empty otherwise.
    public var chunks: [ChunkEntry]
    /// A symlink's target.
    public var target: String?
    /// The owner's numeric ids, when the storage records them.
    public var uid: UInt32?
    public var gid: UInt32?
    /// The extended attributes (POSIX ACLs included) the snapshot recorded, sorted by name.
    public var xattrs: [ExtendedAttribute] = []
    /// A special file's kind, and a device's number.
    public var special: SpecialKind?
    public var device: UInt64?
    /// A file's inode on the server when the snapshot was taken: files that share one (and their
    /// content) were hard links of one file.
    public var inode: UInt64?

    public init(
        path: String, kind: Kind, size: Int64, mtimeNs: Int64, mode: UInt32, sha256: String? = nil,
        chunks: [ChunkEntry] = [], target: String? = nil
    ) {
        self.target = target
        self.path = path
        self.kind = kind
        self.size = size
        self.mtimeNs = mtimeNs
        self.mode = mode
        self.sha256 = sha256
        self.chunks = chunks
    }
}

/// What the snapshot storage engine provides to a restore session (Protocol.md §11): the list of a
/// client's snapshots, the entries of one, and their content. Synchronous and throwing: the
/// ``RestoreSender`` calls it between frames, one file at a time.
public protocol SnapshotContentSource: Sendable {
    /// The client's snapshots, oldest first.
    func snapshotDescriptions() throws -> [SnapshotDescription]

    /// The entries of snapshot `id` at and below each of `paths` (all of them when `paths` is
    /// empty), parents before their contents, each path once. A path the snapshot does not hold is
    /// simply absent (the caller answers `notFound`).
    func entries(ofSnapshot id: String, under paths: [RelativePath]) throws -> [SnapshotEntry]

    /// The entries as ``entries(ofSnapshot:under:)`` lists them, except that a folder (or requested
    /// path) whose stored listing cannot be read is named in ``SnapshotListing/unreadable``, and what
    /// it holds left out, instead of failing the whole list; the snapshot's top folder still fails it.
    func readableEntries(ofSnapshot id: String, under paths: [RelativePath]) throws -> SnapshotListing

    /// The content of chunk `index` of `entry.chunks`, checked against its SHA-256 by the source.
    ///
    /// - Throws: when the content is missing or damaged (the file is then aborted, not the session).
    func chunk(_ index: Int, of entry: SnapshotEntry) throws -> [UInt8]

    /// `count` bytes (≤ 1 MiB) of the file `entry` starting at `offset`. When `entry.chunks` is not
    /// empty, every chunk the range touches is checked against its hash by the source (the sender
    /// then does not hash again); otherwise the sender checks the whole SHA-256.
    ///
    /// - Throws: when the content is missing or damaged.
    func bytes(of entry: SnapshotEntry, at offset: Int64, count: Int) throws -> [UInt8]

    /// The same bytes as ``bytes(of:at:count:)``, appended to `buffer`: a source that can read
    /// them in place saves the copies of an intermediate array.
    func read(_ entry: SnapshotEntry, at offset: Int64, count: Int, into buffer: inout ByteBuffer) throws
}

/// What can be listed of a snapshot: its readable entries, and the folders whose listing cannot be read.
public struct SnapshotListing: Sendable, Equatable {
    public var entries: [SnapshotEntry]
    /// Paths of folders (or requested paths) of the snapshot that could not be read, in list order.
    public var unreadable: [String]

    public init(entries: [SnapshotEntry], unreadable: [String] = []) {
        self.entries = entries
        self.unreadable = unreadable
    }
}

extension SnapshotContentSource {
    /// A source that cannot list part of a snapshot lists all of it or fails.
    public func readableEntries(ofSnapshot id: String, under paths: [RelativePath]) throws -> SnapshotListing {
        SnapshotListing(entries: try entries(ofSnapshot: id, under: paths))
    }

    /// The whole content's SHA-256 of a file the snapshot names by its chunks (``SnapshotEntry/digestsChunks``),
    /// for a client without `chunkDigest`: read, and hashed whole and chunk by chunk, so that content
    /// damaged since the snapshot fails here (its chunk-list digest differs) instead of being vouched
    /// for by a SHA-256 of the damage.
    ///
    /// - Throws: when the content is missing or damaged.
    public func wholeSha256(of entry: SnapshotEntry) throws -> String {
        var whole = SHA256()
        var chunks = ChunkListHasher(lengths: entry.chunks.map(\.length))
        var offset: Int64 = 0
        while offset < entry.size {
            let count = Int(min(Int64(ProtocolLimits.blockSize), entry.size - offset))
            var block = ByteBuffer()
            try read(entry, at: offset, count: count, into: &block)
            guard block.readableBytes == count else {
                throw FileSyncError(.storageFailed, "the stored \"\(entry.path)\" is shorter than the snapshot says")
            }
            block.withUnsafeReadableBytes { bytes in
                whole.update(bufferPointer: bytes)
                chunks.update(bufferPointer: bytes)
            }
            offset += Int64(count)
        }
        guard chunks.finalize()?.hexString == entry.sha256 else {
            throw FileSyncError(.checksumMismatch, "the stored \"\(entry.path)\" does not match its chunks")
        }
        return whole.finalize().hexString
    }

    /// Appends what ``bytes(of:at:count:)`` returns.
    public func read(_ entry: SnapshotEntry, at offset: Int64, count: Int, into buffer: inout ByteBuffer) throws {
        buffer.writeBytes(try bytes(of: entry, at: offset, count: count))
    }
}
