/// The bounds every peer enforces on what arrives over the wire (see Protocol.md, "Limits").
public enum ProtocolLimits {
    /// The protocol version this build speaks.
    public static let version = 1
    /// The oldest protocol version this build accepts.
    public static let minimumVersion = 1

    /// Largest JSON payload of a control frame, in bytes.
    public static let maxControlPayload = 16 * 1024 * 1024
    /// Largest payload of a data frame, in bytes, before and after decompression.
    public static let maxDataPayload = 1024 * 1024
    /// The largest value the 4-byte length prefix may hold.
    public static let maxFrameLength = maxControlPayload + Frame.headerBytesAfterLength

    /// Block size clients use when reading files into data frames.
    public static let blockSize = 1024 * 1024

    /// Largest number of manifest entries in one `CLIENT_FILES_INFO` part.
    public static let maxEntriesPerPart = 10_000
    /// Paths in `DONE.excluded` (the excluded paths a mirroring backup keeps).
    public static let maxKeptPaths = 10_000
    /// Largest number of manifest entries in one session.
    public static let maxManifestEntries = 5_000_000
    /// Largest number of tasks in one `TASKS` part.
    public static let maxTasksPerPart = 10_000

    /// Longest relative path, in UTF-8 bytes.
    public static let maxPathBytes = 4096
    /// Longest path component, in UTF-8 bytes.
    public static let maxComponentBytes = 255
    /// Largest file size a `FILE_HEADER` may announce (16 TiB).
    public static let maxFileSize: Int64 = 1 << 44

    /// Files of at least this many bytes travel in chunks (`chunked` or `delta` tasks) when the
    /// `chunks` capability is in force (Protocol.md 6.7).
    public static let chunkedMinimumSize: Int64 = 1 << 20
    /// Longest chunk of a chunked or delta transfer, in bytes (a `CHUNK` frame's content).
    public static let maxChunkSize = 1024 * 1024
    /// Most entries in one `CHUNK_LIST` frame.
    public static let maxChunksPerList = 4096
    /// Largest payload of a `CHUNK` frame: the 32-byte hash and up to ``maxChunkSize`` bytes.
    public static let maxChunkPayload = 32 + maxChunkSize
    /// Largest payload of a `CHUNK_LIST` frame.
    public static let maxChunkListPayload = maxChunksPerList * 36
    /// Largest payload of a file frame: its fields, the longest path and one data block.
    public static let maxFileFramePayload = WholeFile.fixedBytes + maxPathBytes + maxDataPayload
}
