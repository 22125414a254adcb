/// Server → client, last message: when to back up again, as a delay (never a wall-clock time).
public struct NextSync: Codable, Sendable, Equatable {
    public var afterSeconds: Int
    /// Files stored in this session.
    public var stored: Int
    /// Files that failed in this session.
    public var failed: Int
    /// Entries deleted because of `mirrorDeletions`.
    public var deleted: Int
    /// Set when deletions were requested but not carried out, with the reason.
    public var deletionsSkipped: String?
    /// With `metadata`: entries whose metadata alone changed and was applied without any content
    /// travelling (a mode, a symlink's target or mtime).
    public var metadataUpdated: Int?

    public init(afterSeconds: Int, stored: Int, failed: Int, deleted: Int, deletionsSkipped: String? = nil) {
        self.afterSeconds = afterSeconds
        self.stored = stored
        self.failed = failed
        self.deleted = deleted
        self.deletionsSkipped = deletionsSkipped
    }
}
