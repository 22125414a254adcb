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
    /// Free-form software name and version, for logs.
    public var software: String?
    /// 64 hex digits, fresh for this session: the client's half of the authentication challenge.
    public var clientNonce: String?

    public init(
        version: Int = ProtocolLimits.version, minVersion: Int = ProtocolLimits.minimumVersion, clientId: String,
        capabilities: [String], mirrorDeletions: Bool = false, software: String? = nil, clientNonce: String? = nil
    ) {
        self.version = version
        self.minVersion = minVersion
        self.clientId = clientId
        self.capabilities = capabilities
        self.mirrorDeletions = mirrorDeletions
        self.software = software
        self.clientNonce = clientNonce
    }
}
