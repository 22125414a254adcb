import FileSyncCore

/// What a restore asks the server for, decided by ``RestorePlanner`` before any file is asked.
public struct RestorePlan: Sendable, Equatable {
    /// Files that exist in the target, are not the restore's own work, and would be overwritten:
    /// without `--overwrite`, the restore is refused when there are any.
    public var conflicts: [String] = []
    /// The files to ask for, in entry order (the `RESTORE_WANT` files).
    public var wants: [RestoreWant.File] = []
    /// For the files asked by chunk: where the chunks not asked are in the existing local file.
    public var localChunks: [Int: [ChunkHash: Int64]] = [:]
    /// Entries already in place: equal content (`--overwrite`) or restored by a cut run (journal).
    public var skipped: [Int] = []
    /// The symlinks to make, by entry number (nothing travels for them after `RESTORE_LIST`).
    public var symlinks: [Int] = []
    /// The FIFOs, sockets and devices to make (or report skipped), by entry number.
    public var specials: [Int] = []
    /// The hard links to make, by entry number: other names of files of this restore.
    public var hardlinks: [Int] = []
    /// Entries that cannot be restored, with the reason (e.g. a folder in the way of a file).
    public var failed: [FileResult] = []
    /// With `--overwrite`: what stands where a folder goes (a file, symlink or special file, never
    /// a folder), removed before anything is written so that the folder and what it holds can be.
    public var replacements: [String] = []

    public init() {}

    /// `true` when the restore must stop before asking for anything.
    public var refused: Bool { !conflicts.isEmpty }
}
