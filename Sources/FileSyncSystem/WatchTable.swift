#if canImport(Glibc)
    import Glibc
#endif

/// The inotify watches of a ``FolderWatcher``: which folder each descriptor stands for, and the
/// decoding of an event into what it means. Used by the watcher's reading thread only.
struct WatchTable: Sendable {
    let inotify: Int32
    /// Folder path (bytes, no NUL) by watch descriptor.
    private var folders: [Int32: [UInt8]] = [:]
    /// Set once `inotify_add_watch` failed with ENOSPC: no more watches are tried, and the limit is
    /// reported once.
    private(set) var limitReached = false
    private let root: [UInt8]
    /// Folders (paths relative to the root) not to watch, nor anything below them.
    private let skip: Skip?

    /// Whether the folder at a path relative to the root is left unwatched, with all it holds.
    typealias Skip = @Sendable (String) -> Bool

    /// Creation, writes, moves in and out, deletions; not attribute changes (reading a file may
    /// change its access time, which would start a run after every run). `IN_ONLYDIR` and
    /// `IN_DONT_FOLLOW`: a folder replaced by a link is not followed out of the source.
    static let mask =
        UInt32(IN_CREATE) | UInt32(IN_DELETE) | UInt32(IN_MODIFY) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_FROM)
        | UInt32(IN_MOVED_TO) | UInt32(IN_DELETE_SELF) | UInt32(IN_ONLYDIR) | UInt32(IN_DONT_FOLLOW)
        | UInt32(IN_EXCL_UNLINK)

    init(inotify: Int32, root: [UInt8], skip: Skip? = nil) {
        self.inotify = inotify
        self.root = root
        self.skip = skip
    }

    /// Watches `folder` and the folders below it; returns the limit event when this hit the limit.
    mutating func addTree(_ folder: [UInt8]) -> FolderWatcher.Event? {
        guard !limitReached else { return nil }
        var pending = [folder]
        while let next = pending.popLast() {
            let wd = (next + [0]).withUnsafeBufferPointer { path in
                inotify_add_watch(
                    inotify, UnsafeRawPointer(path.baseAddress!).assumingMemoryBound(to: CChar.self), Self.mask)
            }
            if wd < 0 {
                // A folder gone meanwhile or unreadable is simply not watched; the limit is reported.
                guard errno == ENOSPC else { continue }
                limitReached = true
                return .limitReached(watched: folders.count, needed: countFolders())
            }
            folders[wd] = next
            pending += watchedSubfolders(of: next)
        }
        return nil
    }

    /// What an event on `wd` means; watches folders that appeared.
    mutating func handle(wd: Int32, mask: UInt32, name: [UInt8]) -> [FolderWatcher.Event] {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 { return [.overflow] }
        if mask & UInt32(IN_IGNORED) != 0 {
            folders[wd] = nil
            return []
        }
        guard let folder = folders[wd] else { return [] }
        let display = String(decoding: folder, as: UTF8.self)
        if mask & (UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM) | UInt32(IN_DELETE_SELF)) != 0 {
            return [.deleted(folder: display)]
        }
        var events: [FolderWatcher.Event] = [.changed(folder: display)]
        if mask & UInt32(IN_ISDIR) != 0 && mask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0 {
            // Files written in it before its watch was added are found by the run's scan, which
            // walks the whole folder.
            let path = folder + [UInt8(ascii: "/")] + name
            guard !isSkipped(path) else { return events }
            events.append(.appeared(folder: String(decoding: path, as: UTF8.self)))
            if let limit = addTree(path) { events.append(limit) }
        }
        return events
    }

    /// The folders directly in `folder` that are to be watched.
    private func watchedSubfolders(of folder: [UInt8]) -> [[UInt8]] {
        Self.subfolders(of: folder).filter { !isSkipped($0) }
    }

    /// Whether the folder at `path` (below the root) is left unwatched.
    private func isSkipped(_ path: [UInt8]) -> Bool {
        guard let skip, path.count > root.count + 1 else { return false }
        return skip(String(decoding: path.dropFirst(root.count + 1), as: UTF8.self))
    }

    /// The folders directly in `folder` (not links to folders).
    static func subfolders(of folder: [UInt8]) -> [[UInt8]] {
        guard
            let stream = (folder + [0]).withUnsafeBufferPointer({ path in
                opendir(UnsafeRawPointer(path.baseAddress!).assumingMemoryBound(to: CChar.self))
            })
        else { return [] }
        defer { closedir(stream) }
        var found: [[UInt8]] = []
        for entry in DirectoryEntries(stream) {
            let path = folder + [UInt8(ascii: "/")] + entry.nameBytes
            if entry.type == UInt8(DT_DIR) {
                found.append(path)
            } else if entry.type == UInt8(DT_UNKNOWN) {
                var info = stat()
                let isFolder =
                    (path + [0]).withUnsafeBufferPointer { pointer in
                        lstat(UnsafeRawPointer(pointer.baseAddress!).assumingMemoryBound(to: CChar.self), &info) == 0
                    } && (info.st_mode & S_IFMT) == S_IFDIR
                if isFolder { found.append(path) }
            }
        }
        return found
    }

    /// The number of folders to watch in the tree, the root included: the watches it needs.
    func countFolders() -> Int {
        var count = 0
        var pending = [root]
        while let next = pending.popLast() {
            count += 1
            pending += watchedSubfolders(of: next)
        }
        return count
    }
}
