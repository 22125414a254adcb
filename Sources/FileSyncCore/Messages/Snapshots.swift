/// One snapshot as the server describes it (Protocol.md §11.2).
public struct SnapshotDescription: Codable, Sendable, Equatable {
    /// `yyyyMMddTHHmmssZ-` and 8 hex digits; ids sort by time.
    public var id: String
    /// When the session ended, Unix seconds UTC, by the server's clock.
    public var time: Int64
    /// Regular files in the snapshot, and their total size.
    public var files: Int
    public var bytes: Int64
    /// Entries added, changed and deleted since the previous snapshot.
    public var added: Int
    public var changed: Int
    public var deleted: Int
    /// Why retention keeps this snapshot whatever the policy says, if it does.
    public var protected: String?
    /// Set on a **partial** snapshot: files its backup run failed to store (the snapshot holds what
    /// was stored, the previous version or nothing for those). Absent (`nil`) for a complete run.
    public var failed: Int?

    public init(
        id: String, time: Int64, files: Int, bytes: Int64, added: Int, changed: Int, deleted: Int,
        protected: String? = nil, failed: Int? = nil
    ) {
        self.id = id
        self.time = time
        self.files = files
        self.bytes = bytes
        self.added = added
        self.changed = changed
        self.deleted = deleted
        self.protected = protected
        self.failed = failed
    }
}

/// Server → client, in a `"snapshots"` session: one part of the client's snapshot list, oldest first.
public struct Snapshots: Codable, Sendable, Equatable {
    public var snapshots: [SnapshotDescription]
    /// Set on the last part; the server then closes.
    public var final: Bool

    public init(snapshots: [SnapshotDescription], final: Bool) {
        self.snapshots = snapshots
        self.final = final
    }

    /// Most snapshot descriptions in one part.
    public static let maxPerPart = 10_000
}
