import FileSyncCore

/// What `filesync-server --version` prints: the release (``FileSyncVersion``, the client's too) and
/// the protocol versions this build speaks.
public enum ServerVersion {
    public static let release = FileSyncVersion.string
    public static var description: String {
        let range =
            ProtocolLimits.minimumVersion == ProtocolLimits.version
            ? "\(ProtocolLimits.version)" : "\(ProtocolLimits.minimumVersion)...\(ProtocolLimits.version)"
        return "filesync-server \(release), protocol version \(range)"
    }
}
