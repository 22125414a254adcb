/// Capabilities a peer may announce in `HELLO` and `READY`; the session uses their intersection.
public enum Capability {
    /// Data frames may carry the `deflated` flag.
    public static let deflate = "deflate"
    /// The server may send `resume` tasks, and `FILE_HEADER` may carry an `offset`.
    public static let resume = "resume"
    /// The server may send `chunked` and `delta` tasks; `CHUNK_LIST`, `CHUNK` frames and
    /// `CHUNK_NEED` messages are allowed.
    public static let chunks = "chunks"
    /// Data and chunk frames may carry the `zstd` flag. A client that has both `zstd` and
    /// `deflate` in force uses zstd.
    public static let zstd = "zstd"
    /// The client sends its manifest as manifest frames (``BinaryManifest``) instead of
    /// `CLIENT_FILES_INFO` messages.
    public static let binaryManifest = "binaryManifest"
    /// The client may send a file of at most 1 MiB as one file frame (``WholeFile``) instead of
    /// `FILE_HEADER`, data frames and `FILE_END`.
    public static let fileFrames = "fileFrames"
    /// The server sends its task list as tasks frames (``BinaryTasks``) instead of `TASKS` messages.
    public static let binaryTasks = "binaryTasks"
    /// With ``binaryTasks``: the server answers each manifest part with its tasks frames as soon as
    /// the part is planned, and the client keeps reading while it sends its manifest.
    public static let tasksPerPart = "tasksPerPart"
    /// Snapshots are kept and can be listed and restored (`HELLO.session`, Protocol.md §11).
    public static let history = "history"
    /// With ``chunks``: the client cuts files with exactly the v1 chunker of Protocol.md §5.7, so
    /// the server may cut a stored copy of its files itself (a file completed by resuming) and get
    /// the boundaries the client would send.
    public static let chunkerV1 = "chunkerV1"
    /// Manifests, snapshots and restores carry more than regular files and folders: symlinks (their
    /// target text) today (Protocol.md §6.6); type changes between runs replace what the server holds.
    public static let metadata = "metadata"
    /// With ``metadata``: manifest entries, snapshots and restores carry extended attributes and
    /// POSIX ACLs (Protocol.md §6.9).
    public static let xattrs = "xattrs"
    /// With ``metadata``: FIFOs, sockets and device nodes are recorded in manifests, snapshots and
    /// restores (Protocol.md §6.10).
    public static let specials = "specials"
    /// With ``metadata``: the names of one file are sent once and stored as links of one file
    /// (Protocol.md §6.11).
    public static let hardlinks = "hardlinks"
    /// A client may ask for a dry run (`HELLO.dryRun`): the server plans without changing anything
    /// and answers with `PLAN` messages instead of tasks (Protocol.md §4, "Dry run").
    public static let dryRun = "dryRun"
    /// With ``history``: a restore may list a large file by its chunk-list digest instead of its
    /// whole SHA-256 (`"digest":"chunks"`, Protocol.md §11.3), which a server that checked the
    /// file's chunks as they arrived need not compute.
    public static let chunkDigest = "chunkDigest"
    /// A backup may mirror deletions except below the paths the client excluded
    /// (`HELLO.mirrorDeletionsKeepingExcluded`, `DONE.excluded`, Protocol.md §6.5), as rsync's
    /// `--delete` spares excluded files.
    public static let keepExcluded = "keepExcluded"
    /// With ``keepExcluded``: `DONE.excludeRules` carries the client's exclusion rules, and the
    /// deletions also keep the stored paths those rules exclude that are gone from the source
    /// (Protocol.md §6.5), as rsync's `--delete` protects excluded files on the receiving side.
    public static let excludeRules = "excludeRules"
    /// With ``history``: a restore of a snapshot whose stored listing of some folders cannot be read
    /// (damaged or missing on the server) lists everything else and names those folders in the final
    /// `RESTORE_LIST` part (`unreadable`), instead of failing the whole restore (Protocol.md §11.3).
    public static let unreadableFolders = "unreadableFolders"
    /// Every capability this build understands.
    public static let all: Set<String> = [
        deflate, resume, chunks, zstd, binaryManifest, fileFrames, binaryTasks, tasksPerPart, chunkerV1, metadata,
        xattrs, specials, hardlinks, dryRun, history, chunkDigest, keepExcluded, excludeRules, unreadableFolders,
    ]
}
