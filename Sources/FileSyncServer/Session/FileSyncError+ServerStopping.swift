import FileSyncCore

extension FileSyncError {
    /// What a stopping server tells the sessions it ends: `queueFull`, which clients retry later
    /// (Protocol.md §9), rather than a new code older clients would take as final. A restarted
    /// server is usually back within seconds: come back in 15.
    static var serverStopping: FileSyncError {
        FileSyncError(.queueFull, "the server is stopping; try later").retrying(after: stoppingRetrySeconds)
    }

    static let stoppingRetrySeconds = 15
    /// `serverBusy` is a moment of storage contention (a wait that outlasted the server's own).
    static let busyRetrySeconds = 5

    /// The error as the session's `ERROR` carries it: a `serverBusy` without a hint gets
    /// ``busyRetrySeconds``.
    var withRetryHint: FileSyncError {
        code == .serverBusy && retryAfterSeconds == nil ? retrying(after: Self.busyRetrySeconds) : self
    }
}
