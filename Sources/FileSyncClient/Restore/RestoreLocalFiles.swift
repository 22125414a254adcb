import FileSyncCore

/// What is at a path of the restore target, without following a symlink anywhere on the way.
public enum RestoreLocalState: Sendable, Equatable {
    case absent
    case file(size: Int64)
    case directory
    /// A symlink and its target (`nil` when not UTF-8).
    case symlink(target: String?)
    /// A FIFO, socket or device node.
    case special(SpecialKind)
    /// Anything else, or a path whose parent is not a plain folder.
    case other
}

/// What ``RestorePlanner`` asks about the target folder; ``RestoreFolder`` answers from the disk,
/// tests from memory. Each question is asked only when the answer can change the plan.
public protocol RestoreLocalFiles {
    func state(of path: RelativePath) -> RestoreLocalState
    /// The lowercase hex SHA-256 of the regular file at `path`, `nil` when it cannot be read.
    func sha256(of path: RelativePath) -> String?
    /// The chunk-list digest (Protocol.md §5.7) of the regular file at `path` cut at `lengths`,
    /// in lowercase hex; `nil` when it cannot be read or is not that long.
    func chunkListDigest(of path: RelativePath, lengths: [Int]) -> String?
    /// The file at `path` cut by the v1 chunker: the offset of each distinct chunk, by hash.
    func chunkOffsets(of path: RelativePath) -> [ChunkHash: Int64]?
    /// The size of the partial copy kept for content `sha256` by an earlier restore, if any.
    func partialSize(sha256: String) -> Int64?
    /// Whether `path` and `target` are names of one regular file (a hard link a cut run made).
    func isHardLink(_ path: RelativePath, to target: RelativePath) -> Bool
    /// Whether `path` is the special node `entry` describes: its kind, device number, permission
    /// bits and mtime (what a cut run of this restore made).
    func holdsNode(_ path: RelativePath, as entry: RestoreEntry) -> Bool
}

extension RestoreLocalFiles {
    /// No hard link is known (tests that do not model them).
    public func isHardLink(_ path: RelativePath, to target: RelativePath) -> Bool { false }
    /// No node is known (tests that do not model them).
    public func holdsNode(_ path: RelativePath, as entry: RestoreEntry) -> Bool { false }
}
