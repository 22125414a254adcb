import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes the new tree objects of one snapshot with two filesystem syncs in all, not one per object.
///
/// Each new object is written under a temporary name in `trees/` (an object already on disk is not
/// written again: same hash, same bytes; unless it is added checked and found damaged, when the
/// rename below replaces it, and every snapshot that names it is repaired). ``commit()`` then syncs the filesystem (every temporary is
/// on disk), renames each into `trees/<2 hex>/`, and syncs again (every rename is on disk). A crash
/// before the end leaves temporaries, never a named object with incomplete bytes; the snapshot file,
/// written after ``commit()``, is the only thing that makes the objects reachable.
final class TreeWriter {
    private let store: HistoryStore
    private let directory: Int32
    private var staged: [(temporary: String, hash: ChunkHash)] = []
    /// Objects added, checked or not.
    private var seen: Set<ChunkHash> = []
    /// Objects staged here or found intact on disk: a checked add of one of them needs nothing more.
    private var intact: Set<ChunkHash> = []
    /// Bytes of the objects written.
    private(set) var bytesWritten: Int64 = 0
    /// Objects written again over a damaged one (a missing one is written as a new one is).
    private(set) var repaired = 0

    init(store: HistoryStore) throws {
        self.store = store
        directory = try HistoryIO.openDirectory(store.treesPath, create: false)
    }

    deinit {
        for item in staged { unlinkat(directory, item.temporary, 0) }
        close(directory)
    }

    /// Stages `tree` when it is not on disk yet, and the pieces of its split chunk lists
    /// (``ChunkListObject``) that are not; its hash.
    /// With `checkingExisting`, an object already on disk is read and written again unless its
    /// bytes hash to its name (the snapshot's walk found damage at or above this folder).
    func add(_ tree: TreeObject, checkingExisting: Bool = false) throws -> ChunkHash {
        for piece in tree.listObjects { try add(object: piece.encoded(), checkingExisting: checkingExisting) }
        return try add(object: tree.encoded(), checkingExisting: checkingExisting)
    }

    /// Stages the object `bytes` when it is not on disk yet (or, `checkingExisting`, is not intact
    /// there); its hash.
    @discardableResult
    private func add(object bytes: [UInt8], checkingExisting: Bool) throws -> ChunkHash {
        let hash = bytes.withUnsafeBytes { ChunkHash(of: $0) }
        if checkingExisting {
            guard intact.insert(hash).inserted else { return hash }
            seen.insert(hash)
            if store.hasTree(hash) {
                guard !store.isIntact(hash) else { return hash }
                repaired += 1
            }
        } else {
            guard seen.insert(hash).inserted, !store.hasTree(hash) else { return hash }
            intact.insert(hash)
        }
        let temporary = HistoryIO.temporaryName()
        let fd = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileSyncError.storage("create a tree in", store.treesPath) }
        let written = bytes.withUnsafeBytes { writeFully(fd, $0) }
        close(fd)
        staged.append((temporary, hash))
        guard written else { throw FileSyncError.storage("write a tree in", store.treesPath) }
        bytesWritten += Int64(bytes.count)
        return hash
    }

    /// Makes every staged object durable under its name.
    func commit() throws {
        guard !staged.isEmpty else { return }
        try HistoryIO.syncFilesystem(directory, display: store.treesPath)
        while let item = staged.last {
            let hex = item.hash.description
            let folder = String(hex.prefix(2))
            if mkdirat(directory, folder, 0o700) != 0 && errno != EEXIST {
                throw FileSyncError.storage("create", store.treesPath + "/" + folder)
            }
            let sub = openat(directory, folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard sub >= 0 else { throw FileSyncError.storage("open", store.treesPath + "/" + folder) }
            let renamed = renameat(directory, item.temporary, sub, hex) == 0
            close(sub)
            guard renamed else { throw FileSyncError.storage("name a tree in", store.treesPath) }
            staged.removeLast()
        }
        try HistoryIO.syncFilesystem(directory, display: store.treesPath)
    }
}
