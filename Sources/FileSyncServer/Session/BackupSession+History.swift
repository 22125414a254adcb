import FileSyncCore
import Logging
import NIOCore

extension BackupSession {
    /// What the session is for (Protocol.md §11.1). Without history in force every session is a
    /// backup, as with a server that predates it; a client that asks for another kind must have
    /// announced `history`.
    static func kind(of hello: Hello, features: SessionFeatures, historyOn: Bool) throws -> Hello.SessionKind {
        let asked = hello.session ?? .backup
        if features.contains(.history) || asked == .backup { return asked }
        if historyOn {
            throw FileSyncError(
                .unexpectedMessage, "a \(asked.rawValue) session needs the history capability in HELLO")
        }
        return .backup
    }

    /// A `"snapshots"` session: the client's snapshots, oldest first, in parts; then the server closes.
    func serveSnapshots(_ clientID: ClientID, context: SessionContext) async throws {
        let store = try HistoryStore(root: settings.root, id: clientID)
        // A backup of this client still being completed holds the lock until its snapshot is
        // recorded: the list then includes it (a backup of another client never delays this).
        let descriptions = try withExtendedLifetime(try HistoryLock(historyPath: store.path)) {
            try store.snapshots().records.map(\.wireForm)
        }
        var start = 0
        repeat {
            let end = min(descriptions.count, start + Snapshots.maxPerPart)
            let part = Array(descriptions[start..<end])
            try await context.send(.snapshots(Snapshots(snapshots: part, final: end == descriptions.count)))
            start = end
        } while start < descriptions.count
        context.logger.info("snapshots listed", metadata: ["count": "\(descriptions.count)"])
    }

    /// A `"restore"` session: RESTORE, the list, the client's wants, the files, RESTORE_END.
    func serveRestore(
        _ clientID: ClientID, features: SessionFeatures, _ messages: inout Messages, context: SessionContext
    ) async throws {
        let store = try HistoryStore(root: settings.root, id: clientID)
        // Held for the whole restore: no prune may remove what is being sent.
        let lock = try HistoryLock(historyPath: store.path)
        defer { withExtendedLifetime(lock) {} }
        let source = HistoryContentSource(store: store)
        var sender = try RestoreSender(
            source: source, sink: ChannelFrameSink(channel: connection.channel),
            compressor: try Self.compressor(for: features), symlinks: features.contains(.metadata),
            xattrs: features.contains(.xattrs), specials: features.contains(.specials),
            hardlinks: features.contains(.hardlinks), chunkDigest: features.contains(.chunkDigest),
            unreadableFolders: features.contains(.unreadableFolders))
        let decoder = MessageDecoder()
        let started = ContinuousClock.now
        while let frame = try await messages.next() {
            let message = try decoder.decode(frame)
            if case .restoreWant(let want) = message, want.final { try await setReadTimeout(nil) }
            // Listing for a client without chunkDigest reads and hashes the files the snapshot names
            // by their chunks, which may outlast the idle timeout.
            let hashes: Bool
            if case .restore = message { hashes = !features.contains(.chunkDigest) } else { hashes = false }
            if hashes { try await setReadTimeout(nil) }
            if try await sender.receive(message) {
                if !sender.unreadable.isEmpty {
                    context.logger.error(
                        "restored around folders whose listing cannot be read (run check)",
                        metadata: ["folders": "\(sender.unreadable.count)", "first": "\(sender.unreadable[0])"])
                }
                context.logger.info(
                    "restore finished", metadata: ["took": "\((ContinuousClock.now - started).inSeconds) s"])
                return
            }
            if hashes { try await setReadTimeout(settings.idleTimeout) }
        }
        throw FileSyncError(.connectionClosed, "the client closed the restore session")
    }

    /// The codec for restored file data: zstd level 1 when negotiated, else zlib level 1, else none.
    static func compressor(for features: SessionFeatures) throws -> BlockCompressor? {
        if features.contains(.zstd) { return .zstd(try ZstdCompressor(level: 1)) }
        if features.contains(.deflate) { return .zlib(try Deflater(level: 1)) }
        return nil
    }
}
