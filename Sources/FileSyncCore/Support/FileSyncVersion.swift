/// This build's release, the same for the client and the server (`--version`, HELLO's `software`).
public enum FileSyncVersion {
    public static let string = "1.0.0"
}
