import CFileSyncShims

/// When verified files are committed (Protocol.md §5.5): every batching threshold of the server in
/// one place, and the count of what waits for the next commit.
struct CommitPolicy: Sendable, Equatable {
    /// A batch is committed once this many files wait...
    let maxFiles: Int
    /// ...or this many bytes...
    let maxBytes: Int64
    /// ...or this many files are held open as unnamed files (0: file frames go to partials).
    let maxUnnamed: Int
    /// A batch also starts as soon as the committer is idle once this many files wait, so batches
    /// follow the pace of the disk and what is left to commit after the last file stays small.
    static let eagerFiles = 256
    /// Batches of up to this many files are synced file by file rather than with `syncfs`.
    static let filesSyncedOneByOne = 16
    private(set) var pendingFiles = 0
    private(set) var pendingBytes: Int64 = 0
    private(set) var pendingUnnamed = 0

    init(maxFiles: Int, maxBytes: Int64, maxUnnamed: Int) {
        self.maxFiles = maxFiles
        self.maxBytes = maxBytes
        self.maxUnnamed = maxUnnamed
    }

    /// The policy for `settings`, holding at most as many unnamed files as `openFiles` (the
    /// process's open-file limit, from ``raiseOpenFileLimit()``) affords.
    init(settings: ServerSettings, openFiles: Int) {
        // A quarter of what is left beyond 512 descriptors for the connections and everything else:
        // shared by the batch being committed and the one being filled.
        let affordable = openFiles < 0 ? 0 : (openFiles - 512) / 4
        self.init(
            maxFiles: settings.commitBatchFiles, maxBytes: settings.commitBatchBytes,
            maxUnnamed: affordable >= 64 ? min(affordable, settings.commitBatchFiles) : 0)
    }

    /// The open-file limits at the server's start.
    struct OpenFileLimit: Sendable, Equatable {
        /// The soft limit now in force; -1 if it cannot be read.
        var current: Int
        var before: Int
        /// `Int.max` when unlimited.
        var hard: Int
    }

    /// Raises the process's open-file limit to its hard limit, so that as many connections (idle
    /// ones included) and unnamed files of a commit batch as the administrator allows can be open
    /// at once. A process-wide change: the server makes it once, at start.
    static func raiseOpenFileLimit() -> OpenFileLimit {
        var before = -1
        var hard = -1
        let current = filesync_raise_open_file_limit_to_hard(&before, &hard)
        return OpenFileLimit(current: Int(current), before: before, hard: hard)
    }

    var hasPending: Bool { pendingFiles > 0 }

    /// Whether the next file may be held as an unnamed file.
    var mayHoldUnnamed: Bool { pendingUnnamed < maxUnnamed }

    mutating func queued(bytes: Int64, unnamed: Bool) {
        pendingFiles += 1
        pendingBytes += bytes
        if unnamed { pendingUnnamed += 1 }
    }

    /// The pending files went to the committer.
    mutating func reset() {
        (pendingFiles, pendingBytes, pendingUnnamed) = (0, 0, 0)
    }

    /// Whether the pending files are committed now: the batch is full (by files, bytes or unnamed
    /// files held open), or the committer is idle and at least ``eagerFiles`` wait.
    func isDue(committerIdle: Bool) -> Bool {
        pendingFiles >= maxFiles || pendingBytes >= maxBytes || (maxUnnamed > 0 && pendingUnnamed >= maxUnnamed)
            || (pendingFiles >= Self.eagerFiles && committerIdle)
    }
}
