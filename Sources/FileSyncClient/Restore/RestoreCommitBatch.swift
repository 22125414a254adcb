import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Restored files checked and waiting to be put in place, committed together as a backup's batch
/// is (Protocol.md §6.6, from the other side): their data synced, every one renamed into place,
/// the renames synced, then one journal write synced. A file appears under its name only after its
/// content is on stable storage, and the journal names only files that are; syncing once per batch
/// instead of twice per file is what makes many small files fast.
final class RestoreCommitBatch {
    /// A checked file: its open partial copy (under a name of its own in the partial folder).
    struct Pending {
        var descriptor: Int32
        var partialName: String
        var path: RelativePath
        var sha256: String
        var size: Int64
        var reusedBytes: Int64
    }

    /// What a commit did.
    struct Outcome {
        var restored = 0
        var bytesReused: Int64 = 0
        var failed: [FileResult] = []
    }

    /// Up to this many files or bytes wait; a few files are synced one by one, more with one `syncfs`.
    /// Each waiting file keeps its descriptor: the batch takes at most a quarter of the open-file
    /// limit (raised towards 1,024 first), so a low limit makes smaller batches, not failed files.
    static let maxFiles = min(256, max(fewFiles + 1, raiseOpenFileLimit(towards: 1_024) / 4))
    static let maxBytes: Int64 = 64 << 20
    static let fewFiles = 4

    private let folder: RestoreFolder
    private var pending: [Pending] = []
    private var bytes: Int64 = 0

    init(folder: RestoreFolder) {
        self.folder = folder
    }

    deinit {
        for file in pending { close(file.descriptor) }
    }

    /// Whether the batch should be committed now.
    var isFull: Bool { pending.count >= Self.maxFiles || bytes >= Self.maxBytes }

    func add(_ file: Pending) {
        pending.append(file)
        bytes += file.size
    }

    /// Commits the waiting files; a file that cannot be put in place fails alone, a sync that fails
    /// fails the whole batch (its files stay as partial copies, asked again by the next run).
    func commit(journal: RestoreJournal) -> Outcome {
        let files = pending
        pending = []
        bytes = 0
        defer { for file in files { close(file.descriptor) } }
        var outcome = Outcome()
        guard !files.isEmpty else { return outcome }
        do {
            let partial = try folder.partialFolder(create: true)
            try synchronize(files, partial: partial)
            var placed: [Pending] = []
            var parents = Set<[Substring]>()
            for file in files {
                do {
                    try place(file, from: partial)
                    placed.append(file)
                    parents.insert(file.path.parentComponents)
                } catch {
                    outcome.failed.append(Self.result(file, error))
                }
            }
            try synchronizeRenames(of: placed.count, parents: parents, partial: partial)
            try journal.append(placed.map { ($0.path.string, $0.sha256) })
            outcome.restored = placed.count
            outcome.bytesReused = placed.reduce(0) { $0 + $1.reusedBytes }
        } catch {
            outcome = Outcome(failed: files.map { Self.result($0, error) })
        }
        return outcome
    }

    private func synchronize(_ files: [Pending], partial: Int32) throws {
        if files.count <= Self.fewFiles {
            for file in files where fsync(file.descriptor) != 0 {
                throw RestoreFolder.failure("cannot sync \"\(file.path)\"")
            }
        } else if !synchronizeFilesystem(of: partial) {
            throw RestoreFolder.failure("cannot sync the restored files")
        }
    }

    private func place(_ file: Pending, from partial: Int32) throws {
        let parent = try folder.openFolder(file.path.parentComponents, create: true)
        defer { close(parent) }
        guard renameat(partial, file.partialName, parent, String(file.path.lastComponent)) == 0 else {
            throw RestoreFolder.failure("cannot rename \"\(file.path)\" into place")
        }
    }

    private func synchronizeRenames(of count: Int, parents: Set<[Substring]>, partial: Int32) throws {
        guard count > 0 else { return }
        if count > Self.fewFiles {
            guard synchronizeFilesystem(of: partial) else { throw RestoreFolder.failure("cannot sync the renames") }
            return
        }
        for components in parents {
            let parent = try folder.openFolder(components, create: false)
            defer { close(parent) }
            guard fsync(parent) == 0 else { throw RestoreFolder.failure("cannot sync a restored folder") }
        }
    }

    private static func result(_ file: Pending, _ error: any Error) -> FileResult {
        let failure = error as? FileSyncError ?? FileSyncError(.storageFailed, "\(error)")
        return FileResult(path: file.path.string, error: ErrorMessage(failure))
    }
}
