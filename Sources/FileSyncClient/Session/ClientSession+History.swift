import FileSyncCore
import NIOCore

extension ClientSession {
    /// A `"snapshots"` or `"restore"` session (``kind``): the handshake of a backup, then, if
    /// `READY` has `"history"`, `body` over the connection with the compression flags in force.
    /// Frames are read in place (``FrameMessages``), not by a reading task, so that the server's
    /// data waits on the socket while the restore writes.
    ///
    /// - Throws: ``HistoryUnavailable`` when `READY` lacks `"history"`: the connection is then
    ///   closed with nothing sent after `AUTH` (Protocol.md §11.1).
    func runHistory<T>(_ body: (any RestoreChannel, Frame.Flags) async throws -> T) async throws -> T {
        try await withConnection { inbound, link, check, knownServers in
            var messages = FrameMessages(frames: inbound.makeAsyncIterator())
            let (_, features) = try await handshake(&messages, link: link, check: check, knownServers: knownServers)
            guard features.contains(.history) else { throw HistoryUnavailable() }
            return try await body(HistoryChannel(inbound: messages, outbound: link.outbound), Self.codecs(features))
        }
    }

    /// The frame flags a server may send file data with in a session with `features`.
    static func codecs(_ features: SessionFeatures) -> Frame.Flags {
        var codecs: Frame.Flags = []
        if features.contains(.deflate) { codecs.insert(.deflated) }
        if features.contains(.zstd) { codecs.insert(.zstd) }
        return codecs
    }
}
