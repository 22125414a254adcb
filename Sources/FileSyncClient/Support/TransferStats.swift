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
    }
    private let values = Mutex(Values())

    public init() {}

    /// File content bytes put into data frames (before compression), in all sessions.
    public var contentBytesSent: Int64 { values.withLock { $0.contentBytesSent } }
    /// Bytes not sent because the server already held them.
    public var bytesResumed: Int64 { values.withLock { $0.bytesResumed } }
    public var filesResumed: Int { values.withLock { $0.filesResumed } }
    /// Bytes not sent because the server already held those chunks (delta transfers).
    public var bytesDeduplicated: Int64 { values.withLock { $0.bytesDeduplicated } }

    func deduplicated(_ count: Int64) { values.withLock { $0.bytesDeduplicated += count } }

    /// Sessions that got as far as `READY`: progress, which resets the retry backoff.
    public var sessionsReady: Int { values.withLock { $0.sessionsReady } }

    func ready() { values.withLock { $0.sessionsReady += 1 } }

    func sent(_ count: Int) { values.withLock { $0.contentBytesSent += Int64(count) } }

    func resumed(_ count: Int64) {
        values.withLock {
            $0.bytesResumed += count
            $0.filesResumed += 1
        }
    }
}
