import Synchronization

/// Content counters shared by every session of one run, so that a session that breaks still
/// counts what it sent (that is how resent bytes are known).
public final class TransferStats: Sendable {
    private struct Values {
        var contentBytesSent: Int64 = 0
        var bytesResumed: Int64 = 0
        var filesResumed = 0
        var bytesDeduplicated: Int64 = 0
        var sessionsReady = 0
        var bytesResent: Int64 = 0
        /// The furthest offset sent of each of the files sent last, in the order first sent.
        var sentUpTo: [String: Int64] = [:]
        var sentOrder: [String] = []
        var inFlight: InFlight?
        /// How far into the file in flight the transfer is, for progress: the bytes sent and those
        /// the server already held (a delta's), whatever ``InFlight/sent`` counts for a resume.
        var inFlightDone: Int64 = 0
        var resumeInForce = false
        var secondsQueued = 0.0
        var progress = Progress()
    }

    /// How far the session in progress is: what its task list asks and what has been sent.
    public struct Progress: Sendable, Equatable {
        /// Files the server asked for so far (the task list may still be arriving).
        public var totalFiles = 0
        /// Their bytes.
        public var totalBytes: Int64 = 0
        /// Files whose transfer ended.
        public var filesDone = 0
        /// The bytes of those files.
        public var bytesOfFilesDone: Int64 = 0
        /// The file being sent, if any.
        public var current: String?
    }

    /// The file being sent as a partial the server keeps if the session breaks (a stream or a
    /// chunked transfer; not a file frame, which is all or nothing).
    public struct InFlight: Sendable, Equatable {
        public var path: String
        /// Bytes of the file from its start that have gone out: the resumed offset and what followed.
        /// `nil` for a delta transfer, whose partial also holds chunks the server copied itself.
        public var sent: Int64?
    }

    /// How many of the files sent last are remembered to tell a resend: a cut loses only what was
    /// in flight, the last few MiB, which is far fewer files.
    static let filesRemembered = 4_096
    private let values = Mutex(Values())

    public init() {}

    /// File content bytes put into data frames (before compression), in all sessions.
    public var contentBytesSent: Int64 { values.withLock { $0.contentBytesSent } }
    /// Bytes not sent because the server already held them.
    public var bytesResumed: Int64 { values.withLock { $0.bytesResumed } }
    public var filesResumed: Int { values.withLock { $0.filesResumed } }
    /// Bytes not sent because the server already held those chunks (delta transfers).
    public var bytesDeduplicated: Int64 { values.withLock { $0.bytesDeduplicated } }

    func deduplicated(_ count: Int64) {
        values.withLock { values in
            values.bytesDeduplicated += count
            if values.inFlight != nil { values.inFlightDone += count }
        }
    }

    /// Sessions that got as far as `READY`: progress, which resets the retry backoff.
    public var sessionsReady: Int { values.withLock { $0.sessionsReady } }

    func ready() { values.withLock { $0.sessionsReady += 1 } }

    /// Content bytes sent again: bytes of a file at offsets an earlier session of this run had
    /// already sent (what a cut connection lost in flight).
    public var bytesResent: Int64 { values.withLock { $0.bytesResent } }

    func sent(_ count: Int, of path: String, at offset: Int64) {
        values.withLock { values in
            values.contentBytesSent += Int64(count)
            // Content is counted when its batch is written, which may be after its file ended.
            if values.inFlight?.path == path {
                values.inFlightDone += Int64(count)
                if let sent = values.inFlight?.sent { values.inFlight?.sent = sent + Int64(count) }
            }
            let end = offset + Int64(count)
            if let upTo = values.sentUpTo[path] {
                values.bytesResent += max(0, min(upTo, end) - offset)
                values.sentUpTo[path] = max(upTo, end)
                return
            }
            values.sentUpTo[path] = end
            values.sentOrder.append(path)
            if values.sentOrder.count > 2 * Self.filesRemembered {
                for old in values.sentOrder.prefix(Self.filesRemembered) { values.sentUpTo[old] = nil }
                values.sentOrder.removeFirst(Self.filesRemembered)
            }
        }
    }

    /// The session's progress; `bytesDone` adds what has gone of the file in flight.
    public var progress: (Progress, bytesDone: Int64) {
        values.withLock { values in
            let inFlight = values.inFlight == nil ? 0 : values.inFlightDone
            return (values.progress, min(values.progress.totalBytes, values.progress.bytesOfFilesDone + inFlight))
        }
    }

    /// The task list so far asks for `files` files of `bytes` bytes (a new session starts over).
    func planned(files: Int, bytes: Int64, newSession: Bool) {
        values.withLock { values in
            if newSession { values.progress = Progress() }
            values.progress.totalFiles = files
            values.progress.totalBytes = bytes
        }
    }

    /// A file's transfer is starting (`path`) or ended (`nil`, having `size` bytes).
    func progressed(current path: String?, finishedSize size: Int64? = nil) {
        values.withLock { values in
            values.progress.current = path
            if let size {
                values.progress.filesDone += 1
                values.progress.bytesOfFilesDone += size
            }
        }
    }

    /// Seconds spent waiting in the server's queue, in all sessions.
    public var secondsQueued: Double { values.withLock { $0.secondsQueued } }

    func queued(for seconds: Double) { values.withLock { $0.secondsQueued += seconds } }

    /// The session in force keeps partial files (`resume`), or not.
    func negotiated(resume: Bool) { values.withLock { $0.resumeInForce = resume } }

    /// A file's transfer began at `offset` (a resume); `counting` its bytes from there, or not (delta).
    func started(_ path: String, at offset: Int64, counting: Bool = true) {
        values.withLock { values in
            values.inFlight = InFlight(path: path, sent: counting ? offset : nil)
            values.inFlightDone = offset
        }
    }

    /// The file's transfer ended (FILE_END or FILE_ABORT is on its way).
    func finished() { values.withLock { $0.inFlight = nil } }

    /// The file being sent now, if any.
    public var inFlight: InFlight? { values.withLock { $0.inFlight } }

    /// What a run stopped at this moment leaves on the server, said in one line.
    public var stopReport: String {
        let (file, resume) = values.withLock { ($0.inFlight, $0.resumeInForce) }
        guard let file else { return "stopped: what the server acknowledged is stored; the rest goes next run" }
        guard resume else {
            return "stopped: \(file.path) was being sent; this server keeps no partial files, it goes again next run"
        }
        guard let sent = file.sent, sent > 0 else {
            return "stopped: part of \(file.path) may be kept on the server, resumed next run"
        }
        return "stopped: about \(SnapshotsClient.byteCount(sent)) of \(file.path) kept on the server, resumed next run"
    }

    func resumed(_ count: Int64) {
        values.withLock {
            $0.bytesResumed += count
            $0.filesResumed += 1
        }
    }
}
