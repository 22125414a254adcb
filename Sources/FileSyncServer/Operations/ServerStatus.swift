/// What `filesync-server status --json`, `/api/status` and the control socket give: every known
/// client's backup health and what the server is doing now. Times are seconds since the Unix epoch
/// (server clock); ages and durations are seconds. Holds no secret, key or file name.
public struct ServerStatus: Codable, Sendable, Equatable {
    /// When this was put together.
    public var generatedAt: Double
    /// `"server"` when a running server answered (live state included), `"disk"` when read from the
    /// state on disk (no server running: no live state).
    public var source: String
    /// A backup older than this is stale (`--stale`, default 26 h).
    public var staleAfterSeconds: Double
    /// A backup older than this (twice the server's interval) is late.
    public var lateAfterSeconds: Double
    public var clients: [ClientStatus]
    /// What the server does now; `nil` from the disk.
    public var live: LiveStatus?
    /// Free bytes of the storage root's filesystem, when it could be read.
    public var storageFreeBytes: Int64?

    public init(
        generatedAt: Double, source: String, staleAfterSeconds: Double, lateAfterSeconds: Double,
        clients: [ClientStatus], live: LiveStatus?, storageFreeBytes: Int64?
    ) {
        self.generatedAt = generatedAt
        self.source = source
        self.staleAfterSeconds = staleAfterSeconds
        self.lateAfterSeconds = lateAfterSeconds
        self.clients = clients
        self.live = live
        self.storageFreeBytes = storageFreeBytes
    }
}

/// One client's backup health.
public struct ClientStatus: Codable, Sendable, Equatable {
    public var id: String
    public var freshness: Freshness
    public var lastSuccess: Double?
    public var lastSuccessAgeSeconds: Double?
    public var lastAttempt: Double?
    /// `ok`, `partial`, `failed` or `refused`.
    public var lastResult: String?
    /// Why the last attempt was refused or failed.
    public var lastReason: String?
    public var consecutiveFailures: Int
    /// Files (entries) and bytes of the client's tree at its last success.
    public var filesStored: Int
    public var bytesStored: Int64
    /// Snapshots the server holds for the client (`nil` without history).
    public var snapshots: Int?
    /// How long the last successful backup took, and how many of its files failed.
    public var lastDurationSeconds: Double?
    public var lastFilesFailed: Int?
    /// Sessions of every kind by result over the kept period.
    public var sessions: [String: Int]
    /// Bytes stored by all kept backups.
    public var bytesStoredTotal: Int64

    public init(id: String, freshness: Freshness) {
        self.id = id
        self.freshness = freshness
        self.consecutiveFailures = 0
        self.filesStored = 0
        self.bytesStored = 0
        self.sessions = [:]
        self.bytesStoredTotal = 0
    }
}

/// How recent a client's last success is.
public enum Freshness: String, Codable, Sendable, CaseIterable {
    /// Within twice the server's interval.
    case fresh
    /// Older than twice the interval, within the stale limit.
    case late
    /// Older than the stale limit.
    case stale
    /// No successful backup on record.
    case never

    /// The freshness of a success `age` seconds old (`nil`: none).
    public static func of(age: Double?, lateAfter: Double, staleAfter: Double) -> Freshness {
        guard let age else { return .never }
        if age > staleAfter { return .stale }
        return age > lateAfter ? .late : .fresh
    }
}

/// What the running server is doing.
public struct LiveStatus: Codable, Sendable, Equatable {
    public var active: LiveSession?
    /// The waiting sessions, next first (`position` 1).
    public var queue: [LiveSession]

    public init(active: LiveSession?, queue: [LiveSession]) {
        self.active = active
        self.queue = queue
    }

    private enum CodingKeys: String, CodingKey {
        case active, queue
    }

    /// `active` is always written, `null` when no session runs, so a reader finds both keys.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(active, forKey: .active)
        try container.encode(queue, forKey: .queue)
    }
}

/// One session in the queue or active.
public struct LiveSession: Codable, Sendable, Equatable {
    public var clientId: String
    public var kind: String
    /// 0 for the active session, 1 for the next, and so on.
    public var position: Int
    /// Seconds since it joined the queue (waiting) or got its turn (active).
    public var seconds: Double
    /// The active backup's progress: files done of the task list, and bytes received of the task
    /// list's bytes (received bytes are compressed, so they can end below the total).
    public var filesDone: Int?
    public var filesTotal: Int?
    public var bytesReceived: Int64?
    public var bytesTotal: Int64?
}
