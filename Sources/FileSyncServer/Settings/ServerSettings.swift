import FileSyncCore
import NIOCore

/// Everything a running server needs, resolved from flags, the config file and setup answers.
public struct ServerSettings: Sendable {
    /// The storage folder; each client's files go to `<root>/<client-id>/`.
    public var root: String
    /// TCP port of the backup service (0: any free port, shown at start and in discovery).
    public var port: Int
    /// The delay the server gives clients in `NEXT_SYNC`.
    public var intervalSeconds: Int
    /// The name shown in discovery.
    public var name: String
    /// A stable identity for discovery replies.
    public var serverId: String
    /// Checks clients against the server's shared secret.
    public var authenticator: Authenticator
    /// The TLS identity; `nil` with `--no-tls`.
    public var identity: ServerIdentity?

    /// The address the TCP service binds.
    public var listenHost = "0.0.0.0"
    /// The interface discovery uses, its IPv4 address or its name: `IP_MULTICAST_IF` and
    /// `IPV6_MULTICAST_IF`, and group membership.
    public var multicastInterface: String
    public var group = Endpoint.defaultGroup
    /// Whether to answer discovery and announce at all.
    public var discoveryEnabled = true

    public var handshakeTimeout = TimeAmount.seconds(10)
    public var idleTimeout = TimeAmount.seconds(60)
    public var keepaliveInterval = TimeAmount.seconds(15)
    public var announceInterval = TimeAmount.seconds(30)
    public var maxWaitingClients = 1_000
    /// Partial files older than this are deleted instead of resumed.
    public var partialExpiry = Duration.seconds(7 * 86400)
    /// Verified files are renamed into place, and acknowledged, in batches of at most this many files
    /// or ``commitBatchBytes`` bytes, after one filesystem sync.
    public var commitBatchFiles = 8192
    public var commitBatchBytes: Int64 = 512 * 1024 * 1024
    /// Whether every completed backup records a snapshot and old versions are kept (Protocol.md §11).
    public var history = true
    /// `--apply-owners`: a server running as root gives stored entries the owners (numeric uid and
    /// gid) the client sent; otherwise everything stored belongs to the server's user.
    public var applyOwners = false
    /// Which snapshots are kept, applied after each backup of a client.
    public var retention = RetentionPolicy.defaults

    public init(
        root: String, port: Int, intervalSeconds: Int, name: String, serverId: String, multicastInterface: String,
        authenticator: Authenticator
    ) {
        self.authenticator = authenticator
        self.root = root
        self.port = port
        self.intervalSeconds = intervalSeconds
        self.name = name
        self.serverId = serverId
        self.multicastInterface = multicastInterface
    }

    /// Files at least this large travel as chunks (`chunked` or `delta` tasks) to clients with the
    /// `chunks` capability; smaller ones are sent whole, where a chunk list would cost more than it saves.
    public static let chunkedMinimumSize = ProtocolLimits.chunkedMinimumSize
}
