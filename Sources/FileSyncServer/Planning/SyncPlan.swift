import FileSyncCore

/// What the server must do to bring a client's folder in line with a manifest.
public struct SyncPlan: Sendable, Equatable {
    /// Files to request, in manifest order.
    public var tasks = PlannedTasks()
    /// The version of each file of ``tasks`` (same order): its size and modification time in the
    /// manifest.
    public var versions: [Version] = []
    /// Folders to create, or whose mode to set, parents before children (folders already held with
    /// their mode are left out).
    public var directories: [ManifestEntry] = []
    /// Files whose content is current but whose permission bits differ.
    public var modeUpdates: [ManifestEntry] = []
    /// Entries that cannot be stored, with the reason (a folder where a file should go, a symlink...).
    public var conflicts: [Conflict] = []
    /// Files already current.
    public var unchanged = 0

    /// A file's size and modification time.
    public struct Version: Sendable, Equatable {
        public var size: Int64
        public var mtimeNs: Int64

        public init(size: Int64, mtimeNs: Int64) {
            self.size = size
            self.mtimeNs = mtimeNs
        }
    }

    public struct Conflict: Sendable, Equatable {
        public var path: String
        public var reason: String

        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    public init() {}
}

extension SyncPlan {
    /// Plans the session: which files to request and what to create, comparing each entry of the
    /// manifest with what `stored` says the server holds. A file is requested when it is new or its
    /// size or modification time differ (exact nanoseconds); changed permission bits (`0o777`; the
    /// server never applies setuid, setgid or sticky) are applied without a transfer.
    ///
    /// - Parameters:
    ///   - manifest: validated entries, in any order.
    ///   - stored: what the server holds at a relative path, or `nil` when nothing is there.
    /// - Throws: `limitExceeded` past ``PathList/maxBytes`` of paths to request.
    public static func plan(
        for manifest: some Collection<ManifestEntry>, stored: (String) -> StoredEntry?
    ) throws -> SyncPlan {
        var plan = SyncPlan()
        for entry in manifest {
            let existing = stored(entry.path)
            switch entry.type {
            case .dir:
                switch existing?.type {
                case nil: plan.directories.append(entry)
                case .dir:
                    // The server keeps its folders writable for itself: only a different mode is work.
                    if existing!.mode & 0o777 != (entry.mode & 0o777) | 0o700 { plan.directories.append(entry) }
                case .file, .other:
                    plan.conflicts.append(.init(path: entry.path, reason: "the server holds a non-folder here"))
                }
            case .file:
                switch existing {
                case nil:
                    try plan.tasks.append(TransferTask(path: entry.path))
                    plan.versions.append(Version(size: entry.size, mtimeNs: entry.mtimeNs))
                case .some(let held) where held.type == .file:
                    if held.size != entry.size || held.mtimeNs != entry.mtimeNs {
                        try plan.tasks.append(TransferTask(path: entry.path))
                        plan.versions.append(Version(size: entry.size, mtimeNs: entry.mtimeNs))
                    } else {
                        plan.unchanged += 1
                        if held.mode & 0o777 != entry.mode & 0o777 { plan.modeUpdates.append(entry) }
                    }
                case .some(let held):
                    let what = held.type == .dir ? "a folder" : "a symlink or special file"
                    plan.conflicts.append(.init(path: entry.path, reason: "the server holds \(what) here"))
                }
            }
        }
        plan.directories.sort { $0.path.utf8.count < $1.path.utf8.count }
        return plan
    }

    /// Adds the plan of another part of the same manifest (the parts name disjoint paths), keeping
    /// folders parents first.
    ///
    /// - Throws: `limitExceeded` past ``PathList/maxBytes`` of paths to request.
    public mutating func merge(_ other: SyncPlan) throws {
        try tasks.append(contentsOf: other.tasks)
        versions += other.versions
        modeUpdates += other.modeUpdates
        conflicts += other.conflicts
        unchanged += other.unchanged
        if !other.directories.isEmpty {
            directories += other.directories
            directories.sort { $0.path.utf8.count < $1.path.utf8.count }
        }
    }

    /// The stored paths to delete when mirroring deletions: everything in `stored` that the manifest
    /// does not name (`keeping` says whether it does), children before their parents.
    public static func deletions(stored: [String], keeping: (String) -> Bool) -> [String] {
        stored.filter { !keeping($0) }
            .sorted { lhs, rhs in
                let l = lhs.utf8.count(where: { $0 == UInt8(ascii: "/") })
                let r = rhs.utf8.count(where: { $0 == UInt8(ascii: "/") })
                return l != r ? l > r : lhs > rhs
            }
    }
}
