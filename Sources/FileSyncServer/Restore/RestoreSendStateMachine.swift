import FileSyncCore

/// The server's side of a restore session after `READY` (Protocol.md §11.3), as pure state: it
/// validates `RESTORE` and `RESTORE_WANT`, picks the snapshot, splits `RESTORE_LIST` into parts and
/// hands out one ``RestoreFilePlan`` at a time. ``RestoreSender`` performs its actions.
///
/// Every refusal is a thrown ``FileSyncError`` carrying the code §11.3 names; the session then
/// answers `ERROR` and closes.
public struct RestoreSendStateMachine: Sendable {
    /// What happened.
    public enum Event: Sendable {
        /// The client's `RESTORE`.
        case restore(Restore)
        /// The answer to ``Action/loadEntries(snapshot:paths:)``: the entries, and the folders (or
        /// requested paths) the source could not read, named in the final part.
        case entries([SnapshotEntry], unreadable: [String] = [])
        /// One `RESTORE_WANT` part.
        case want(RestoreWant)
        /// The file of the last ``Action/sendFile(_:)`` went out whole, with this many content bytes.
        case fileSent(bytes: Int64)
        /// The file of the last ``Action/sendFile(_:)`` was aborted (`FILE_ABORT`).
        case fileAborted
    }

    /// What to do.
    public enum Action: Sendable, Equatable {
        /// Read the entries of this snapshot under these paths, then report them as ``Event/entries(_:)``.
        case loadEntries(snapshot: String, paths: [RelativePath])
        /// Send this control message.
        case send(Message)
        /// Send this file, then report ``Event/fileSent(bytes:)`` or ``Event/fileAborted``.
        case sendFile(RestoreFilePlan)
        /// The session is over: close the connection.
        case close
    }

    enum State: Sendable {
        case awaitingRestore
        case loading(paths: [RelativePath])
        case awaitingWant
        case sending
        case finished
    }

    private let snapshots: [SnapshotDescription]
    /// The budget of one `RESTORE_LIST` part's JSON, far below the 16 MiB control limit.
    let maxPartBytes: Int
    /// Whether symlinks are listed (`metadata` in force).
    let symlinks: Bool
    /// Whether files and folders carry their extended attributes (`xattrs` in force).
    let xattrs: Bool
    /// Whether FIFOs, sockets and devices are listed (`specials` in force).
    let specials: Bool
    /// Whether files that were hard links of one file are listed as links (`hardlinks` in force).
    let hardlinks: Bool
    private(set) var state = State.awaitingRestore
    private(set) var chosen: SnapshotDescription?
    var entries: [SnapshotEntry] = []
    /// The wanted files, and the next one to send.
    var wants: [RestoreWant.File] = []
    private var nextWant = 0
    /// The last entry number wanted so far (they must increase strictly across parts).
    var lastWanted = -1
    private var filesSent = 0
    private var bytesSent: Int64 = 0
    private var failed = 0

    /// - Parameters:
    ///   - snapshots: the client's snapshots, oldest first.
    ///   - maxPartBytes: the worst-case JSON budget of one `RESTORE_LIST` part (smaller in tests).
    ///   - symlinks: whether the list carries symlinks (`metadata` in force); left out otherwise.
    ///   - xattrs: whether entries carry their extended attributes (`xattrs` in force).
    ///   - specials: whether FIFOs, sockets and devices are listed (`specials` in force).
    public init(
        snapshots: [SnapshotDescription], maxPartBytes: Int = ProtocolLimits.maxControlPayload / 2,
        symlinks: Bool = false, xattrs: Bool = false, specials: Bool = false, hardlinks: Bool = false
    ) {
        self.hardlinks = hardlinks
        self.xattrs = xattrs
        self.specials = specials
        self.snapshots = snapshots
        self.maxPartBytes = maxPartBytes
        self.symlinks = symlinks
    }

    /// Takes one event and returns what to do, in order.
    public mutating func handle(_ event: Event) throws -> [Action] {
        switch (state, event) {
        case (.awaitingRestore, .restore(let request)):
            let paths = try Self.validate(request)
            let snapshot = try Self.choose(request, among: snapshots)
            chosen = snapshot
            state = .loading(paths: paths)
            return [.loadEntries(snapshot: snapshot.id, paths: paths)]
        case (.loading(let paths), .entries(let loaded, let unreadable)):
            let listed = try list(loaded, requested: paths, unreadable: unreadable)
            state = .awaitingWant
            return listed.map { .send(.restoreList($0)) }
        case (.awaitingWant, .want(let part)):
            try accept(part)
            guard part.final else { return [] }
            state = .sending
            return next()
        case (.sending, .fileSent(let bytes)):
            filesSent += 1
            bytesSent += bytes
            return next()
        case (.sending, .fileAborted):
            failed += 1
            return next()
        case (_, .restore), (_, .want):
            throw FileSyncError(.unexpectedMessage, "\(Self.name(event)) is not allowed at this point of a restore")
        default:
            preconditionFailure("restore sender reported \(event) in state \(state)")
        }
    }

    /// The next file to send, or `RESTORE_END` once all are sent.
    private mutating func next() -> [Action] {
        guard nextWant < wants.count else {
            state = .finished
            return [.send(.restoreEnd(RestoreEnd(files: filesSent, bytes: bytesSent, failed: failed))), .close]
        }
        let want = wants[nextWant]
        nextWant += 1
        let entry = entries[want.entry]
        return [.sendFile(RestoreFilePlan(entryNumber: want.entry, entry: entry, want: want, sha256: entry.sha256!))]
    }

    private static func name(_ event: Event) -> String {
        switch event {
        case .restore: "RESTORE"
        case .want: "RESTORE_WANT"
        default: "\(event)"
        }
    }
}
