/// Client → server, first message of every session.
public struct Hello: Codable, Sendable, Equatable {
    /// The highest protocol version the client speaks.
    public var version: Int
    /// The lowest protocol version the client accepts.
    public var minVersion: Int
    public var clientId: String
    public var capabilities: [String]
    /// Whether files the server holds but the manifest lacks are deleted at the end (`--delete`).
    public var mirrorDeletions: Bool
    /// With `keepExcluded` in force (and `mirrorDeletions` false, so that a server without it
    /// deletes nothing): mirror deletions, except the paths `DONE.excluded` names and everything
    /// below them, which the client's exclusion rules left out (Protocol.md §6.5).
    public var mirrorDeletionsKeepingExcluded: Bool?
    /// Free-form software name and version, for logs.
    public var software: String?
    /// 64 hex digits, fresh for this session: the client's half of the authentication challenge.
    public var clientNonce: String?
    /// With `history` (Protocol.md §11.1): what the session is for; absent means a backup.
    public var session: SessionKind?
    /// With `dryRun` in force: plan this backup without changing anything on the server and answer
    /// with `PLAN` messages (Protocol.md §4, "Dry run"); absent means a real backup.
    public var dryRun: Bool?

    /// What a session is for.
    public enum SessionKind: String, Codable, Sendable {
        case backup, snapshots, restore
    }

    public init(
        version: Int = ProtocolLimits.version, minVersion: Int = ProtocolLimits.minimumVersion, clientId: String,
        capabilities: [String], mirrorDeletions: Bool = false, software: String? = nil, clientNonce: String? = nil,
        session: SessionKind? = nil, dryRun: Bool? = nil, mirrorDeletionsKeepingExcluded: Bool? = nil
    ) {
        self.version = version
        self.minVersion = minVersion
        self.clientId = clientId
        self.capabilities = capabilities
        self.mirrorDeletions = mirrorDeletions
        self.software = software
        self.clientNonce = clientNonce
        self.session = session
        self.dryRun = dryRun
        self.mirrorDeletionsKeepingExcluded = mirrorDeletionsKeepingExcluded
    }
}
