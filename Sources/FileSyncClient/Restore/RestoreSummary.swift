import FileSyncCore

/// What one restore did; printed as one line, or as one JSON object with `--json` (like ``BackupSummary``).
public struct RestoreSummary: Codable, Sendable, Equatable {
    /// The snapshot restored.
    public var snapshot: String?
    /// Set when that snapshot is partial: files its backup run failed to store.
    public var snapshotFailed: Int?
    /// Entries the snapshot listed under the requested paths.
    public var listed = 0
    /// Files received and put in place.
    public var restored = 0
    /// Symlinks made (or found already made by a cut run), failed ones included in ``failed``.
    public var symlinks = 0
    /// FIFOs and devices made (failed ones included in ``failed``).
    public var specials = 0
    /// Hard links made: other names of restored files (failed ones included in ``failed``).
    public var hardlinks = 0
    /// Special files not made, with the reason: devices when not run as root.
    public var specialsSkipped: [FileResult] = []
    /// Files already in place (equal content, or finished by a cut run).
    public var skipped = 0
    /// Files that could not be restored, with the reason.
    public var failed: [FileResult] = []
    /// Files in the way without `--overwrite`: the restore was refused and nothing was asked.
    public var conflicts: [String] = []
    /// File content bytes received (after decompression).
    public var bytesReceived: Int64 = 0
    /// Bytes taken from the target instead of the network: local chunks and continued partial copies.
    public var bytesReused: Int64 = 0
    public var seconds = 0.0
    /// The server used, as HOST:PORT (set by the caller that connected).
    public var server: String?

    public init() {}

    /// Whether the whole restore is in place.
    public var complete: Bool { failed.isEmpty && conflicts.isEmpty }
}
