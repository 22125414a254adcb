import FileSyncCore

/// The connection of a restore or snapshots session after `READY`, as ``RestoreClient`` and
/// ``SnapshotsClient`` use it: the integrator adapts the real connection (TLS, framing, timeouts).
public protocol RestoreChannel {
    /// Writes frames, returning once they are taken (backpressure).
    func send(_ frames: [Frame]) async throws
    /// The next frame from the server, `nil` when the connection closed.
    func receive() async throws -> Frame?
}
