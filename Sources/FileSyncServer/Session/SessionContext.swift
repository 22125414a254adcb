import FileSyncCore
import Logging
import NIOCore

/// State shared by the steps of one session, and the one way it writes control messages.
struct SessionContext {
    let outbound: NIOAsyncChannelOutboundWriter<Frame>
    var logger: Logger
    var ticket: QueueStateMachine.Ticket?
    /// Set once files may be committed: it holds what is left to catalog after the session.
    var committer: BatchCommitter?
    /// Set once a backup completed (NEXT_SYNC sent), when the server keeps history: its snapshot is
    /// recorded after the connection closed, before the next session's turn.
    var completedHistory: ClientHistory?
    /// Files that backup failed to store (failed, rejected or never sent): its snapshot is partial.
    var completedFailures = 0
    /// Whether the backup mirrors deletions (`mirrorDeletions`, or `mirrorDeletionsKeepingExcluded`
    /// with `keepExcluded` in force), and whether `DONE.excluded` then names what it keeps.
    var mirrors = false
    var keepsExcluded = false
    /// With ``keepsExcluded``: whether `DONE.excludeRules` then says which stored paths the client's
    /// rules exclude (`excludeRules` in force).
    var keepsRuleExcluded = false
    /// The owners the completed backup's manifest claimed (`nil` without `"metadata"`).
    var completedOwners: ClaimedOwners?
    /// The devices that session recorded for its snapshot only (the server could not make them).
    var completedDevices: RecordedDevices?
    /// Every control frame of the session is encoded here, within the control-frame limit.
    let encoder: ControlMessageEncoder
    /// What the session history will keep of this session, filled in step by step.
    var record: SessionRecord
    /// Where `status` reads what the session does; the session's entry is its ticket's number.
    let live: LiveActivity?
    var liveEntry: UInt64?
    /// A dry run changes nothing on the server, not even the session history: it is not recorded.
    var dryRun = false
    /// The client's IP address, read when the connection came (a closed channel no longer knows it).
    var peerAddress = "unknown address"

    init(
        outbound: NIOAsyncChannelOutboundWriter<Frame>, logger: Logger, encoder: ControlMessageEncoder = .init(),
        record: SessionRecord, live: LiveActivity? = nil
    ) {
        self.outbound = outbound
        self.logger = logger
        self.encoder = encoder
        self.record = record
        self.live = live
    }

    /// Tells `status` that `done` files of the task list are stored or failed.
    func reportProgress(filesDone done: Int) {
        if let live, let liveEntry { live.progress(liveEntry, filesDone: done) }
    }

    /// Sends `message`: one control frame, or several for a `FILE_ACK` too large for one.
    func send(_ message: Message) async throws {
        try await outbound.write(contentsOf: try encoder.frames(message))
    }

    /// `message` as one control frame.
    func frame(_ message: Message) throws -> Frame {
        try encoder.frame(message)
    }
}
