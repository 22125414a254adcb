import FileSyncCore

/// Where a restore sender writes its frames: the connection, in the real server; a buffer in tests.
/// `write` returns once the frames are taken, so a slow peer slows the sender down.
public protocol FrameSink {
    func write(_ frames: [Frame]) async throws

    /// Returns once every frame written is on its way (sent to the socket), before the session closes.
    func finish() async throws
}

extension FrameSink {
    public func finish() async throws {}
}
