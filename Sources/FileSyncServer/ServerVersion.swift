import FileSyncCore

/// What `filesync-server --version` prints: the release (the same as the client's
/// `FileSyncVersion`) and the protocol versions this build speaks.
public enum ServerVersion {
    public static let release = "1.0.0"
    public static var description: String {
        let range =
            ProtocolLimits.minimumVersion == ProtocolLimits.version
            ? "\(ProtocolLimits.version)" : "\(ProtocolLimits.minimumVersion)...\(ProtocolLimits.version)"
        return "filesync-server \(release), protocol version \(range)"
    }
}
