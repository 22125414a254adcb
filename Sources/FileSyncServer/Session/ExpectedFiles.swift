import FileSyncCore

/// The files a session still expects: the ones its tasks asked for and that have not arrived. One
/// bit per manifest entry beside the manifest's packed paths, rather than a set of strings.
struct ExpectedFiles {
    private let paths: PathSet
    private var pending = EntrySet()

    /// The files of `tasks`, each a path of `paths`.
    init(_ tasks: PlannedTasks, in paths: PathSet) {
        self.paths = paths
        for index in tasks.indices {
            if let entry = paths.index(of: tasks.path(at: index)) { pending.insert(entry) }
        }
    }

    /// The manifest entries `requested`, by position among `paths`.
    init(_ requested: EntrySet, in paths: PathSet) {
        self.paths = paths
        self.pending = requested
    }

    /// How many have not arrived.
    var count: Int { pending.count }

    /// Whether `path` is expected (asked for and not arrived).
    func contains(_ path: String) -> Bool {
        paths.index(of: path).map { pending.contains($0) } ?? false
    }

    /// Takes `path` out of what is expected.
    ///
    /// - Returns: `false` when it was not requested, or was already taken out.
    mutating func remove(_ path: String) -> Bool {
        guard let entry = paths.index(of: path) else { return false }
        return pending.remove(entry)
    }
}
