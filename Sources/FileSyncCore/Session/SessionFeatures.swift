/// The optional protocol features in force for one session: the capabilities both peers announced
/// (Protocol.md §1). Both sides derive it with ``negotiate(client:server:)`` once, right after
/// `READY`, and ask it questions instead of searching capability strings.
public struct SessionFeatures: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Data frames may carry the `deflated` flag.
    public static let deflate = SessionFeatures(rawValue: 1 << 0)
    /// The server may send `resume` tasks, and `FILE_HEADER` may carry an `offset`.
    public static let resume = SessionFeatures(rawValue: 1 << 1)
    /// `chunked` and `delta` tasks, `CHUNK_LIST` and `CHUNK` frames and `CHUNK_NEED` messages.
    public static let chunks = SessionFeatures(rawValue: 1 << 2)
    /// Data and chunk frames may carry the `zstd` flag.
    public static let zstd = SessionFeatures(rawValue: 1 << 3)
    /// The manifest travels as manifest frames (``BinaryManifest``).
    public static let binaryManifest = SessionFeatures(rawValue: 1 << 4)
    /// Small files may travel as one file frame (``WholeFile``).
    public static let fileFrames = SessionFeatures(rawValue: 1 << 5)
    /// Tasks and acknowledgements travel as tasks and ack frames (``BinaryTasks``, ``BinaryAcks``).
    public static let binaryTasks = SessionFeatures(rawValue: 1 << 6)
    /// With ``binaryTasks``: each manifest part is answered with its tasks as soon as it is planned.
    public static let tasksPerPart = SessionFeatures(rawValue: 1 << 7)
    /// Snapshots: `"snapshots"` and `"restore"` sessions (Protocol.md §11).
    public static let history = SessionFeatures(rawValue: 1 << 8)
    /// With ``chunks``: the client's chunk boundaries are the v1 chunker's (Protocol.md §5.7).
    public static let chunkerV1 = SessionFeatures(rawValue: 1 << 9)
    /// Symlinks in manifests, snapshots and restores; type changes replace what the server holds
    /// (Protocol.md §6.6).
    public static let metadata = SessionFeatures(rawValue: 1 << 10)
    /// With ``metadata``: extended attributes and POSIX ACLs (Protocol.md §6.9).
    public static let xattrs = SessionFeatures(rawValue: 1 << 11)
    /// With ``metadata``: FIFOs, sockets and devices (Protocol.md §6.10).
    public static let specials = SessionFeatures(rawValue: 1 << 12)
    /// With ``metadata``: hard links (Protocol.md §6.11).
    public static let hardlinks = SessionFeatures(rawValue: 1 << 13)
    /// A dry run may be asked for (`HELLO.dryRun`): planned without side effects, answered with
    /// `PLAN` messages (Protocol.md §4, "Dry run").
    public static let dryRun = SessionFeatures(rawValue: 1 << 14)
    /// With ``history``: restore entries may carry a chunk-list digest (Protocol.md §11.3).
    public static let chunkDigest = SessionFeatures(rawValue: 1 << 15)
    /// A backup may mirror deletions except below the paths the client excluded
    /// (`HELLO.mirrorDeletionsKeepingExcluded`, `DONE.excluded`, Protocol.md §6.5).
    public static let keepExcluded = SessionFeatures(rawValue: 1 << 16)
    /// With ``keepExcluded``: the client also sends its exclusion rules (`DONE.excludeRules`), and
    /// the stored paths they exclude are kept too (Protocol.md §6.5).
    public static let excludeRules = SessionFeatures(rawValue: 1 << 17)
    /// With ``history``: a restore lists what it can read of a damaged snapshot and names the folders
    /// it cannot (`RESTORE_LIST.unreadable`, Protocol.md §11.3).
    public static let unreadableFolders = SessionFeatures(rawValue: 1 << 18)

    /// Each feature with its capability name, in the order Protocol.md lists them.
    public static let named: [(feature: SessionFeatures, name: String)] = [
        (.deflate, Capability.deflate), (.resume, Capability.resume), (.chunks, Capability.chunks),
        (.zstd, Capability.zstd), (.binaryManifest, Capability.binaryManifest),
        (.fileFrames, Capability.fileFrames), (.binaryTasks, Capability.binaryTasks),
        (.tasksPerPart, Capability.tasksPerPart), (.history, Capability.history),
        (.chunkerV1, Capability.chunkerV1), (.metadata, Capability.metadata), (.xattrs, Capability.xattrs),
        (.specials, Capability.specials), (.hardlinks, Capability.hardlinks), (.dryRun, Capability.dryRun),
        (.chunkDigest, Capability.chunkDigest), (.keepExcluded, Capability.keepExcluded),
        (.excludeRules, Capability.excludeRules), (.unreadableFolders, Capability.unreadableFolders),
    ]

    /// Every feature this build knows.
    public static let all = SessionFeatures(named.map(\.feature))

    /// The features named in a capability list; names this build does not know are ignored.
    public init(capabilities: some Sequence<String>) {
        let names = Set(capabilities)
        self.init(Self.named.filter { names.contains($0.name) }.map(\.feature))
    }

    /// The capability names of these features, in Protocol.md's order.
    public var capabilities: [String] {
        Self.named.filter { contains($0.feature) }.map(\.name)
    }

    /// The features in force for a session: those both peers announced. A feature that only makes
    /// sense with another (``tasksPerPart`` without ``binaryTasks``) is dropped.
    public static func negotiate(client: some Sequence<String>, server: some Sequence<String>) -> SessionFeatures {
        var features = SessionFeatures(capabilities: client).intersection(SessionFeatures(capabilities: server))
        if !features.contains(.binaryTasks) { features.remove(.tasksPerPart) }
        if !features.contains(.chunks) { features.remove(.chunkerV1) }
        if !features.contains(.metadata) { features.subtract([.xattrs, .specials, .hardlinks]) }
        if !features.contains(.history) { features.subtract([.chunkDigest, .unreadableFolders]) }
        if !features.contains(.keepExcluded) { features.remove(.excludeRules) }
        return features
    }

    public var description: String { capabilities.joined(separator: ", ") }
}
