import FileSyncCore

extension FileSyncError {
    /// What a stopping server tells the sessions it ends: `queueFull`, which clients retry later
    /// (Protocol.md §9), rather than a new code older clients would take as final.
    static var serverStopping: FileSyncError {
        FileSyncError(.queueFull, "the server is stopping; try later")
    }
}
