import FileSyncCore
import GRDB

/// One session as the server's session history keeps it (`sessions.sqlite`, ``SessionLog``): who,
/// from where, when, what for, how it ended, and what it moved. Times are the server's clock, in
/// seconds since the Unix epoch. Never holds a secret, a key or a file name.
public struct SessionRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    /// What the session was for.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case backup, restore, list
    }

    /// How the session ended.
    public enum Result: String, Codable, Sendable, CaseIterable {
        /// Everything asked was done.
        case ok
        /// A backup that completed with some files not stored (failed, rejected or never sent).
        case partial
        /// The session broke (connection lost, storage error, protocol error, server stopping).
        case failed
        /// The server turned the client away; ``SessionRecord/reason`` says why.
        case refused
    }

    /// Why a session was refused.
    public enum Refusal: String, Codable, Sendable, CaseIterable {
        /// The client did not prove the secret (or closed after CHALLENGE).
        case auth
        /// The client id is bound to another client's key.
        case keyBinding
        /// Too many clients were waiting already.
        case queueFull
        /// No protocol version both sides speak.
        case version
    }

    public static let databaseTableName = "session"

    /// The row id (assigned on insert).
    public var id: Int64?
    /// The client id from HELLO; empty when the session ended before a valid one arrived.
    public var clientId: String
    /// The peer's address and port.
    public var peer: String
    public var startedAt: Double
    public var endedAt: Double
    public var kind: Kind
    public var result: Result
    /// For `refused`: the ``Refusal``; for `failed`: the error code (e.g. `connectionClosed`).
    public var reason: String?
    /// Entries of the client's manifest (files and folders).
    public var filesScanned: Int = 0
    /// Files the client sent and the server stored.
    public var filesSent: Int = 0
    /// Files already up to date on the server.
    public var filesUnchanged: Int = 0
    /// Files that could not be stored (the snapshot is then partial).
    public var filesFailed: Int = 0
    /// Bytes of the new and changed files the task list asked for (their sizes in the manifest).
    public var bytesStored: Int64 = 0
    /// Bytes of the client's whole tree, as its manifest gives them.
    public var bytesTotal: Int64 = 0
    /// Bytes that crossed the connection, both ways, TLS included.
    public var bytesWire: Int64 = 0
    public var secondsQueued: Double = 0
    public var secondsActive: Double = 0
    /// When the session got its turn (while it runs; not stored).
    var turnStarted: Double?

    enum CodingKeys: String, CodingKey {
        case id, clientId, peer, startedAt, endedAt, kind, result, reason, filesScanned, filesSent, filesUnchanged
        case filesFailed, bytesStored, bytesTotal, bytesWire, secondsQueued, secondsActive
    }

    public init(clientId: String, peer: String, startedAt: Double, kind: Kind = .backup) {
        self.clientId = clientId
        self.peer = peer
        self.startedAt = startedAt
        self.endedAt = startedAt
        self.kind = kind
        self.result = .failed
    }

    /// Seconds from start to end.
    public var duration: Double { max(0, endedAt - startedAt) }

    /// Sets the result from the error that ended the session: a refusal for authentication, key
    /// binding, a full queue or a version; a failure named by its code otherwise.
    public mutating func end(with error: (any Error)?) {
        guard let error else {
            result = filesFailed > 0 ? .partial : .ok
            return
        }
        let code = (error as? FileSyncError)?.code
        let refusal: Refusal? =
            switch code {
            case .authenticationFailed?: .auth
            case .clientKeyMismatch?: .keyBinding
            case .queueFull?: .queueFull
            case .unsupportedVersion?: .version
            default: nil
            }
        if let refusal {
            (result, reason) = (.refused, refusal.rawValue)
        } else {
            (result, reason) = (.failed, code?.rawValue ?? (error is CancellationError ? "connectionClosed" : "error"))
        }
    }
}
