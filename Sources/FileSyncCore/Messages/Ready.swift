/// Server → client: the session may proceed with the manifest.
public struct Ready: Codable, Sendable, Equatable {
    /// The protocol version chosen for this session.
    public var version: Int
    public var serverId: String
    public var serverName: String
    /// Capabilities both sides have.
    public var capabilities: [String]
    /// The server's limits, so a client can size its parts and frames.
    public var limits: Limits

    public struct Limits: Codable, Sendable, Equatable {
        public var maxControlPayload: Int
        public var maxDataPayload: Int
        public var maxEntriesPerPart: Int
        public var maxManifestEntries: Int
        public var maxPathBytes: Int

        public static let current = Limits(
            maxControlPayload: ProtocolLimits.maxControlPayload, maxDataPayload: ProtocolLimits.maxDataPayload,
            maxEntriesPerPart: ProtocolLimits.maxEntriesPerPart,
            maxManifestEntries: ProtocolLimits.maxManifestEntries, maxPathBytes: ProtocolLimits.maxPathBytes)
    }

    public init(version: Int, serverId: String, serverName: String, capabilities: [String], limits: Limits = .current) {
        self.version = version
        self.serverId = serverId
        self.serverName = serverName
        self.capabilities = capabilities
        self.limits = limits
    }
}
