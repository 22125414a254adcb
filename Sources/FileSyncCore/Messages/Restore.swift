/// Client → server, once after `READY` in a `"restore"` session: which snapshot, and which paths
/// of it (Protocol.md §11.3).
public struct Restore: Codable, Sendable, Equatable {
    /// The id of the snapshot to restore.
    public var snapshot: String?
    /// Unix seconds: the newest snapshot taken at or before this time.
    public var at: Int64?
    /// Files or folders to restore; empty means the whole tree.
    public var paths: [String]

    public init(snapshot: String? = nil, at: Int64? = nil, paths: [String] = []) {
        self.snapshot = snapshot
        self.at = at
        self.paths = paths
    }

    /// Most paths one request may name.
    public static let maxPaths = 1_000
}

/// One entry of a snapshot being restored.
public struct RestoreEntry: Codable, Sendable, Equatable {
    public var path: String
    /// `"file"`, `"dir"` or (with `metadata`) `"symlink"`; a client skips a type it does not know.
    public var type: String
    public var size: Int64
    public var mtimeNs: Int64
    public var mode: UInt32
    /// SHA-256 of the whole content, for files; with ``digest`` `"chunks"`, the chunk-list digest.
    public var sha256: String?
    /// `"chunks"` (only with `chunkDigest` in force, and only with ``chunks``): ``sha256`` is the
    /// chunk-list digest (Protocol.md §5.7) of ``chunks``, not the whole content's SHA-256.
    public var digest: String?
    /// The chunks of a large file, in order, each `[length, SHA-256 hex]`.
    public var chunks: [RestoreChunk]?
    /// A symlink's target (`"symlink"` entries, with `metadata` in force).
    public var target: String?
    /// The owner's numeric ids, as the snapshot recorded them (with `metadata` in force).
    public var uid: UInt32?
    public var gid: UInt32?
    /// A file's or folder's extended attributes and POSIX ACLs, sorted by name, as the snapshot
    /// recorded them (with `xattrs` in force; absent when there are none).
    public var xattrs: [ExtendedAttribute]?
    /// A `"special"` entry's kind (with `specials` in force), and a device's number.
    public var special: SpecialKind?
    public var device: UInt64?

    public init(
        path: String, type: String, size: Int64, mtimeNs: Int64, mode: UInt32, sha256: String? = nil,
        chunks: [RestoreChunk]? = nil, target: String? = nil
    ) {
        self.target = target
        self.path = path
        self.type = type
        self.size = size
        self.mtimeNs = mtimeNs
        self.mode = mode
        self.sha256 = sha256
        self.chunks = chunks
    }

    /// Most chunks listed for one file; a file with more is restored whole or by offset.
    public static let maxChunks = 65_536
    /// The ``digest`` of an entry whose ``sha256`` is its chunk-list digest.
    public static let chunkListDigest = "chunks"

    /// Whether ``sha256`` is the chunk-list digest of ``chunks`` (``digest`` `"chunks"`).
    public var isChunkListDigest: Bool { digest == Self.chunkListDigest }
}

/// A chunk of a restore entry: on the wire the two-element array `[length, "sha256 hex"]`.
public struct RestoreChunk: Codable, Sendable, Equatable {
    public var length: Int
    public var sha256: String

    public init(length: Int, sha256: String) {
        self.length = length
        self.sha256 = sha256
    }

    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        length = try container.decode(Int.self)
        sha256 = try container.decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(length)
        try container.encode(sha256)
    }
}

/// Server → client: one part of what the chosen snapshot holds under the requested paths.
public struct RestoreList: Codable, Sendable, Equatable {
    public var snapshot: SnapshotDescription
    public var entries: [RestoreEntry]
    public var final: Bool
    /// With `unreadableFolders` in force, in the final part only: the folders of the snapshot whose
    /// stored listing the server could not read, so that what they hold is not in the list (at most
    /// ``maxUnreadable``). Absent when there are none.
    public var unreadable: [String]?

    public init(snapshot: SnapshotDescription, entries: [RestoreEntry], final: Bool, unreadable: [String]? = nil) {
        self.snapshot = snapshot
        self.entries = entries
        self.final = final
        self.unreadable = unreadable
    }

    /// Most entries in one part.
    public static let maxEntriesPerPart = 10_000
    /// Most unreadable folders one list names (each path at most 4,096 bytes: within one part's budget).
    public static let maxUnreadable = 1_000
}

/// Client → server: one part of the files the client lacks.
public struct RestoreWant: Codable, Sendable, Equatable {
    /// One wanted file: its entry number and, optionally, where to start or which chunks to send.
    public struct File: Codable, Sendable, Equatable {
        public var entry: Int
        public var offset: Int64?
        public var chunks: [Int]?

        public init(entry: Int, offset: Int64? = nil, chunks: [Int]? = nil) {
            self.entry = entry
            self.offset = offset
            self.chunks = chunks
        }
    }

    public var files: [File]
    public var final: Bool

    public init(files: [File], final: Bool) {
        self.files = files
        self.final = final
    }

    /// Most files in one part.
    public static let maxFilesPerPart = 10_000
}

/// Server → client, last message of a restore session.
public struct RestoreEnd: Codable, Sendable, Equatable {
    public var files: Int
    public var bytes: Int64
    public var failed: Int

    public init(files: Int, bytes: Int64, failed: Int) {
        self.files = files
        self.bytes = bytes
        self.failed = failed
    }
}
