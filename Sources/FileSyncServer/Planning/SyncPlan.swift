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
    /// Symlinks to make or remake (new, another target or mtime), and with `specials` FIFOs,
    /// sockets and devices (new, or another kind, device number, mode or mtime), in manifest order.
    public var symlinks: [ManifestEntry] = []
    /// With `metadata`: every folder of the manifest, whose mtime is set once the session's
    /// contents are in place (Protocol.md §6.2).
    public var folderTimes: [ManifestEntry] = []
    /// With `metadata`: files and folders whose setuid, setgid or sticky bits are set in the
    /// manifest or on the server; their whole mode is applied once the session's files are committed.
    public var specialModes: [ManifestEntry] = []
    /// With `metadata`: entries whose stored owner differs from the manifest's (new ones included),
    /// given theirs once the session's contents are in place, when the server applies owners.
    public var owners = PlannedOwners()
    /// With `xattrs`: files and folders whose stored extended attributes differ from the
    /// manifest's, or whose content is requested (a new version starts without any), given theirs
    /// once the session's contents are in place (Protocol.md §6.9).
    public var xattrs: [ManifestEntry] = []
    /// Entries of ``xattrs`` whose content and mode are current: their attributes alone change.
    public var xattrUpdates = 0
    /// With `hardlinks`: the hard links of the manifest, made (or found in place) once the session's
    /// files are committed (Protocol.md §6.11).
    public var hardlinks: [ManifestEntry] = []
    /// Stored entries of another type than the manifest's, to remove (a folder with all it holds)
    /// before anything is created or asked for.
    public var removals: [String] = []
    /// Entries that cannot be stored, with the reason (a folder where a file should go, a symlink...).
    public var conflicts: [Conflict] = []
    /// Files requested whose stored copy has the same size (only the mtime differs: a `touch`, or
    /// an edit that kept the size): the server may offer them as deltas against the stored copy.
    public var sameSize = Set<String>()
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
        /// The code of the rejection: `typeConflict`, or `limitExceeded` for extended attributes
        /// beyond the bounds.
        public var code: FileSyncError.Code

        public init(path: String, reason: String, code: FileSyncError.Code = .typeConflict) {
            self.path = path
            self.reason = reason
            self.code = code
        }
    }

    /// What a type change between runs may replace (Protocol.md §6.6).
    public enum TypeChanges: Sendable, Equatable {
        /// Without `metadata`: an entry of another type is rejected, as it always was.
        case refused
        /// A file or symlink is replaced; a folder is not (archive mode without history: nothing
        /// of a folder is ever deleted, since nothing else would keep its files).
        case keepingFolders
        /// With mirrorDeletions, or with history (its files are preserved for the snapshots that
        /// hold them): a folder is replaced with everything below it.
        case all

        /// The rule of a session: `metadata` in force or not, deletions mirrored or not, history kept or not.
        public init(metadata: Bool, mirrorsDeletions: Bool, keepsHistory: Bool) {
            guard metadata else {
                self = .refused
                return
            }
            self = mirrorsDeletions || keepsHistory ? .all : .keepingFolders
        }
    }

    public init() {}
}

extension SyncPlan {
    /// Plans the session: which files to request and what to create, comparing each entry of the
    /// manifest with what `stored` says the server holds. A file is requested when it is new or its
    /// size or modification time differ (exact nanoseconds); changed permission bits (`0o777`; the
    /// server never applies setuid, setgid or sticky) are applied without a transfer. With
    /// `typeChanges` other than `.refused`, what stands in the way of an entry of another type is
    /// removed first (``removals``) where `typeChanges` allows it.
    ///
    /// - Parameters:
    ///   - manifest: validated entries, in any order.
    ///   - owners: whether ``owners`` is filled (only a server that gives entries their owners needs it).
    ///   - stored: what the server holds at a relative path, or `nil` when nothing is there.
    /// - Throws: `limitExceeded` past ``PathList/maxBytes`` of paths to request.
    public static func plan(
        for manifest: some Collection<ManifestEntry>, typeChanges: TypeChanges = .refused, xattrs: Bool = false,
        specials: Bool = false, owners: Bool = true, stored: (String) -> StoredEntry?
    ) throws -> SyncPlan {
        var plan = SyncPlan()
        for entry in manifest {
            var existing = stored(entry.path)
            // The way is checked again, without following anything, when the entry is written.
            if typeChanges != .refused && existing?.type == .blocked { existing = nil }
            if let held = existing, held.type != entry.storedType, typeChanges != .refused {
                // A FIFO, socket or device is replaced only for a client that sends them (`specials`).
                guard held.type != .other || (specials && held.special != nil), held.type != .blocked,
                    held.type != .dir || typeChanges == .all
                else {
                    plan.conflicts.append(.init(path: entry.path, reason: reason(held, typeChanges)))
                    continue
                }
                plan.removals.append(entry.path)
                existing = nil
            }
            if owners, typeChanges != .refused, let uid = entry.uid, let gid = entry.gid,
                existing?.uid != uid || existing?.gid != gid
            {
                try plan.owners.append(path: entry.path, uid: uid, gid: gid)
            }
            if typeChanges != .refused, entry.type == .file || entry.type == .dir,
                (entry.mode | (existing?.mode ?? 0)) & 0o7000 != 0
            {
                plan.specialModes.append(entry)
            }
            let tasksBefore = plan.tasks.count
            switch entry.type {
            case .dir:
                if typeChanges != .refused { plan.folderTimes.append(entry) }
                plan.planFolder(entry, existing)
            case .file: try plan.planFile(entry, existing)
            case .hardlink, .symlink, .special: plan.planNode(entry, existing)
            }
            if xattrs && (entry.type == .file || entry.type == .dir) {
                plan.planXattrs(entry, existing, requested: plan.tasks.count > tasksBefore)
            }
        }
        plan.directories.sort { $0.path.utf8.count < $1.path.utf8.count }
        return plan
    }

    private static func reason(_ held: StoredEntry, _ typeChanges: TypeChanges) -> String {
        switch held.type {
        case .dir where typeChanges == .keepingFolders:
            "the server holds a folder here; without history it is replaced only when the client mirrors deletions"
        case .blocked: "a parent on the server is a symlink or a file"
        default: "the server holds a special file here"
        }
    }

    /// A hard link, symlink or special file: made when new or when it differs from what is held.
    private mutating func planNode(_ entry: ManifestEntry, _ existing: StoredEntry?) {
        switch entry.type {
        case .hardlink:
            // Made, or found in place, once the files are committed (the target may be new).
            plan(hardlink: entry, existing)
        case .symlink:
            if existing?.target != entry.target || existing?.mtimeNs != entry.mtimeNs { symlinks.append(entry) }
        case .special:
            if existing?.special != entry.special || existing?.device != entry.device
                || existing?.mtimeNs != entry.mtimeNs || existing?.mode != entry.mode
            {
                symlinks.append(entry)
            }
        case .file, .dir: break
        }
    }

    private mutating func plan(hardlink entry: ManifestEntry, _ existing: StoredEntry?) {
        if existing == nil || existing?.type == .file {
            hardlinks.append(entry)
        } else {
            conflicts.append(.init(path: entry.path, reason: "the server holds a non-file here"))
        }
    }

    /// Notes a file or folder whose attributes differ from what is held, or whose content is
    /// requested with attributes (a new version starts without any).
    private mutating func planXattrs(_ entry: ManifestEntry, _ existing: StoredEntry?, requested: Bool) {
        let wanted = entry.xattrs ?? []
        let differ = wanted != existing?.xattrs ?? []
        if differ || (requested && !wanted.isEmpty) { xattrs.append(entry) }
        if differ && !requested && existing != nil && modeUpdates.last?.path != entry.path { xattrUpdates += 1 }
    }

    private mutating func planFolder(_ entry: ManifestEntry, _ existing: StoredEntry?) {
        switch existing?.type {
        case nil: directories.append(entry)
        case .dir:
            // The server keeps its folders writable for itself: only a different mode is work.
            if existing!.mode & 0o777 != (entry.mode & 0o777) | 0o700 { directories.append(entry) }
        case .file, .symlink, .other, .blocked:
            conflicts.append(.init(path: entry.path, reason: "the server holds a non-folder here"))
        }
    }

    private mutating func planFile(_ entry: ManifestEntry, _ existing: StoredEntry?) throws {
        switch existing {
        case nil:
            try tasks.append(TransferTask(path: entry.path))
            versions.append(Version(size: entry.size, mtimeNs: entry.mtimeNs))
        case .some(let held) where held.type == .file:
            if held.size != entry.size || held.mtimeNs != entry.mtimeNs {
                try tasks.append(TransferTask(path: entry.path))
                versions.append(Version(size: entry.size, mtimeNs: entry.mtimeNs))
                if held.size == entry.size { sameSize.insert(entry.path) }
            } else {
                unchanged += 1
                if held.mode & 0o777 != entry.mode & 0o777 { modeUpdates.append(entry) }
            }
        case .some(let held):
            let what = held.type == .dir ? "a folder" : "a symlink or special file"
            conflicts.append(.init(path: entry.path, reason: "the server holds \(what) here"))
        }
    }

    /// Adds the plan of another part of the same manifest (the parts name disjoint paths), keeping
    /// folders parents first.
    ///
    /// - Throws: `limitExceeded` past ``PathList/maxBytes`` of paths to request.
    public mutating func merge(_ other: SyncPlan) throws {
        try tasks.append(contentsOf: other.tasks)
        versions += other.versions
        modeUpdates += other.modeUpdates
        symlinks += other.symlinks
        folderTimes += other.folderTimes
        specialModes += other.specialModes
        try owners.append(contentsOf: other.owners)
        xattrs += other.xattrs
        hardlinks += other.hardlinks
        xattrUpdates += other.xattrUpdates
        sameSize.formUnion(other.sameSize)
        removals += other.removals
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

extension ManifestEntry {
    /// The type a stored entry has when it matches this entry.
    var storedType: StoredEntry.EntryType {
        switch type {
        case .file: .file
        case .dir: .dir
        case .symlink: .symlink
        case .special: .other
        case .hardlink: .file
        }
    }
}
