import FileSyncCore

/// What one backup run did; printed as one line, or as one JSON object with `--json`.
public struct BackupSummary: Codable, Sendable {
    /// Regular files found in the source.
    public var scanned = 0
    /// Files sent and stored by the server.
    public var sent = 0
    /// Files the server already held unchanged (not sent).
    public var unchanged = 0
    /// The old name of ``unchanged``, still written for one release (deprecated): "skipped" now
    /// means only entries the scan did not back up (``warnings``).
    public var skipped = 0
    /// Entries whose metadata alone changed (a mode, a symlink) and was applied by the server
    /// without sending content; 0 from a server without `metadata`.
    public var metadataUpdated = 0
    /// Files that could not be backed up, with the reason.
    public var failed: [FileResult] = []
    /// Entries skipped by the scan (symlinks, special files...), with the reason.
    public var warnings: [FileResult] = []
    /// Entries left out by the exclusion rules or for their size (what excluded folders hold is
    /// not counted: they are not entered).
    public var excluded = 0
    /// Entries deleted on the server (`--delete`).
    public var deleted = 0
    /// Whether deletions were asked for (`--delete`); without it, entries deleted here are kept
    /// on the server.
    public var mirrorDeletions = false
    /// Seconds spent waiting in the server's queue (`QUEUED` until `READY`), all sessions together.
    public var secondsQueued = 0.0
    /// Why requested deletions were not carried out, if they were not.
    public var deletionsSkipped: String?
    /// The source folder held nothing at all (no file, no folder): with `--delete` the run refused to
    /// delete anything and exits 66.
    public var emptySource = false
    /// Bytes read and written on the TCP connections, framing included.
    public var bytesOnWire: Int64 = 0
    /// File content bytes sent (before compression).
    public var bytesSent: Int64 = 0
    public var seconds = 0.0
    /// The server used, as HOST:PORT.
    public var server: String?
    public var serverName: String?
    /// Reconnections after a lost connection.
    public var retries = 0
    /// Files continued from the server's partial copy instead of sent whole.
    public var filesResumed = 0
    /// Bytes not sent because the server already held them (resume).
    public var bytesResumed: Int64 = 0
    /// Bytes not sent because the server already held the chunks (delta transfers).
    public var bytesDeduplicated: Int64 = 0
    /// File content bytes sent more than once (lost with a broken connection), or sent for files
    /// that were not stored in the end.
    public var bytesResent: Int64 = 0
    /// `"summary"` with `--json-progress`, after the `"status"` messages (absent otherwise).
    public var messageType: String?
    /// The server's `NEXT_SYNC` delay.
    public var nextSyncSeconds: Int?

    public init() {}

    /// Whether a folder of the source could not be opened or listed (a warning with code
    /// `unreadable`): what it holds was not backed up, and no deletion was mirrored.
    public var hasUnreadableFolders: Bool { warnings.contains { $0.error?.code == "unreadable" } }
}
