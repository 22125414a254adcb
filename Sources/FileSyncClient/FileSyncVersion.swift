/// This build's version string.
public enum FileSyncVersion {
    public static let string = "1.0.0"
}
