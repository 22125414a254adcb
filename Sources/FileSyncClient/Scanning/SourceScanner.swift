import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Walks the source folder and builds the manifest.
///
/// Regular files, folders, symlinks (their target, never followed) and FIFOs, sockets and devices
/// (their kind and device number, never opened) go into the manifest; names that are not valid
/// UTF-8 and unreadable folders are skipped with a warning. A file that vanishes between listing and `stat` is simply not there.
public struct SourceScanner: Sendable {
    public struct Result: Sendable {
        /// The manifest, packed (about 22 bytes per entry besides its path).
        public var entries = PackedManifest()
        /// What was skipped and why.
        public var warnings: [FileResult] = []
        /// Files skipped for their size (`--exclude-larger-than`).
        public var tooLarge: [FileResult] = []
        /// Entries left out by the exclusion rules (not counting what excluded folders hold).
        public var excluded = 0
        public var fileCount: Int { entries.fileCount }
        /// Folders that could not be opened or listed: their contents are missing from the manifest.
        public var unreadableFolders: [String] {
            warnings.filter { $0.error?.code == "unreadable" }.map(\.path)
        }
        /// The text of each folder's rule file, by folder (what a partial rescan compares, and what
        /// `DONE.excludeRules` carries); with several sources, below each source's name.
        var ruleTexts: [String: String] = [:]
        /// ``excluded`` by the folder the excluded entries are in (what a partial rescan keeps).
        var excludedIn: [String: Int] = [:]
        /// The paths of the excluded entries by folder, as long as there are at most
        /// ``ProtocolLimits/maxKeptPaths`` (what `--delete` asks the server to keep).
        var excludedPathsIn: [String: [String]] = [:]
        private var excludedPathsKept = 0

        /// The paths of the excluded entries, sorted; fewer than ``excluded`` when there were more
        /// than ``ProtocolLimits/maxKeptPaths``.
        public var excludedPaths: [String] { excludedPathsIn.values.flatMap { $0 }.sorted() }

        public init() {}

        /// Notes the entry `path` of `folder`, left out by the rules.
        mutating func noteExcluded(_ path: String, in folder: String) {
            excluded += 1
            excludedIn[folder, default: 0] += 1
            keepExcludedPaths([path], in: folder)
        }

        /// Adds `paths`, excluded entries of `folder`, while the bound allows.
        mutating func keepExcludedPaths(_ paths: [String], in folder: String) {
            guard excludedPathsKept + paths.count <= ProtocolLimits.maxKeptPaths else {
                excludedPathsKept = ProtocolLimits.maxKeptPaths + 1
                return
            }
            excludedPathsIn[folder, default: []] += paths
            excludedPathsKept += paths.count
        }

        /// Adds what `other`, a walk of other folders, noted besides its entries.
        mutating func addNotes(of other: Result) {
            warnings += other.warnings
            tooLarge += other.tooLarge
            excluded += other.excluded
            ruleTexts.merge(other.ruleTexts) { $1 }
            excludedIn.merge(other.excludedIn, uniquingKeysWith: +)
            for (folder, paths) in other.excludedPathsIn { keepExcludedPaths(paths, in: folder) }
            if other.excludedPathsKept > ProtocolLimits.maxKeptPaths {
                excludedPathsKept = ProtocolLimits.maxKeptPaths + 1
            }
        }
    }

    public let source: String
    /// What is left out of the scan (``ExclusionFilter``).
    public var exclusion = ExclusionFilter()
    /// Whether files and folders carry their extended attributes and POSIX ACLs.
    public var xattrs: Bool
    /// A partial rescan's listing of one folder: subfolders are noted (``Subtree`` without a
    /// descriptor), not opened, so that a folder of many costs no descriptor each.
    var listingOnly = false

    public init(source: String, exclusion: ExclusionFilter = ExclusionFilter(), xattrs: Bool = false) {
        self.source = source
        self.exclusion = exclusion
        self.xattrs = xattrs
    }

    /// How many top-level folders are walked at once (`stat` of every entry is most of a scan, and
    /// the server is idle meanwhile).
    static let parallelWalks = 2

    /// Walks the source: depth-first, names sorted, each top-level folder walked in its own task.
    public func scan() async throws -> Result {
        var result = try await scanUnresolved()
        // In manifest order: the first name of a file is sent, its other names as links to it.
        result.entries.resolveHardLinks()
        return result
    }

    /// The scan, its files with several names noted but not yet made links (a partial rescan
    /// reuses it, and links across folders are resolved again).
    func scanUnresolved() async throws -> Result {
        let fd = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw FileSyncError(.invalidSetting, "cannot open the source folder \"\(source)\"", errno: errno)
        }
        var scanner = self
        var info = stat()
        if exclusion.oneFileSystem && fstat(fd, &info) == 0 { scanner.exclusion.sourceDevice = UInt64(info.st_dev) }
        return try await scanner.scan(opened: fd)
    }

    /// The scan of the source open as `fd`.
    private func scan(opened fd: Int32) async throws -> Result {
        // Each top-level folder is opened from here when its turn comes, never all at once: a
        // source with thousands of them would run out of descriptors, and a folder that cannot be
        // opened leaves its contents out of the manifest.
        let root = dup(fd)
        defer { if root >= 0 { close(root) } }
        var top = Result()
        var deferred: [Subtree]? = []
        var topScanner = self
        topScanner.listingOnly = true
        topScanner.walk(fd, prefix: "", matcher: exclusion.rootMatcher, into: &top, deferring: &deferred)
        let subtrees = deferred ?? []
        // Each folder's subtree goes right after the folder's own entry. Subtrees are merged in
        // order as soon as they are walked, so that only a few are ever held besides the result.
        var merger = Merger(top: top, subtrees: subtrees)
        try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            for (index, subtree) in subtrees.enumerated() {
                if index >= Self.parallelWalks, let (done, walked) = try await group.next() {
                    try merger.add(walked, at: done)
                }
                group.addTask {
                    var result = Result()
                    let folder = openat(root, subtree.prefix, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    guard folder >= 0 else {
                        result.warnings.append(Self.unopenable(subtree.prefix))
                        return (index, result)
                    }
                    var none: [Subtree]? = nil
                    walk(folder, prefix: subtree.prefix, matcher: subtree.matcher, into: &result, deferring: &none)
                    return (index, result)
                }
            }
            for try await (done, walked) in group { try merger.add(walked, at: done) }
        }
        return try merger.finish()
    }

    /// Puts the top-level entries and the walked subtrees together in order.
    private struct Merger {
        let top: Result
        let subtrees: [Subtree]
        var result = Result()
        /// Walked subtrees waiting for an earlier one.
        var waiting: [Int: Result] = [:]
        /// Subtrees merged so far.
        var merged = 0
        /// Top-level entries merged so far.
        var topMerged = 0

        fileprivate init(top: Result, subtrees: [Subtree]) {
            self.top = top
            self.subtrees = subtrees
            result.addNotes(of: top)
        }

        mutating func add(_ walked: Result, at index: Int) throws {
            waiting[index] = walked
            while let next = waiting.removeValue(forKey: merged) {
                try mergeTop(through: subtrees[merged].position)
                try result.entries.append(contentsOf: next.entries)
                result.addNotes(of: next)
                merged += 1
            }
        }

        mutating func finish() throws -> Result {
            try mergeTop(through: top.entries.count - 1)
            return result
        }

        private mutating func mergeTop(through position: Int) throws {
            while topMerged <= position {
                try result.entries.append(top.entries[topMerged])
                if let key = top.entries.linkKey(at: topMerged) { result.entries.noteLinks(key) }
                topMerged += 1
            }
        }
    }

    /// A folder left for later (a top-level folder walked in its own task, or a folder a partial
    /// rescan lists): its path, and the position of its own entry in the result.
    struct Subtree: Sendable {
        var prefix: String
        var position: Int
        /// The exclusion rules in force in the folder's parent.
        var matcher: IgnoreMatcher
    }

    /// Lists and stats the folder `fd` (closing it); subfolders are walked at once, or left in
    /// `subtrees` when that is given.
    func walk(
        _ fd: Int32, prefix: String, matcher parent: IgnoreMatcher, into result: inout Result,
        deferring subtrees: inout [Subtree]?
    ) {
        guard let stream = fdopendir(fd) else {
            result.warnings.append(Self.unreadable(prefix))
            close(fd)
            return
        }
        defer { closedir(stream) }
        let names = listNames(stream, prefix: prefix, into: &result)
        let directory = dirfd(stream)
        let (matcher, ruleText) = ExclusionFilter.matcher(for: directory, prefix: prefix, names: names, parent: parent)
        if let ruleText { result.ruleTexts[prefix] = ruleText }
        for name in names {
            let path = prefix.isEmpty ? name : prefix + "/" + name
            var info = stat()
            guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            guard !isExcluded(path, info, in: directory, matcher: matcher, into: &result) else { continue }
            guard (try? RelativePath(validating: path)) != nil else {
                result.warnings.append(skipped(prefix, name, "the path is too long or not representable"))
                continue
            }
            var entry = ManifestEntry(
                path: path, type: .file, size: Int64(info.st_size), mtimeNs: info.mtimeNs,
                mode: UInt32(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid)
            if xattrs {
                addAttributes(of: name, info, in: directory, path: path, to: &entry, warnings: &result.warnings)
            }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                guard (try? result.entries.append(entry)) != nil else {
                    result.warnings.append(skipped(prefix, name, "the manifest's paths exceed 4 GiB"))
                    continue
                }
                if info.st_nlink > 1 {
                    result.entries.noteLinks(.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)))
                }
            case S_IFDIR:
                (entry.type, entry.size) = (.dir, 0)
                guard (try? result.entries.append(entry)) != nil else {
                    result.warnings.append(skipped(prefix, name, "the manifest's paths exceed 4 GiB"))
                    continue
                }
                if exclusion.crossesDevice(UInt64(info.st_dev)) {
                    result.noteExcluded(path, in: prefix)
                } else {
                    descend(
                        into: name, of: directory, path: path, matcher: matcher, into: &result, deferring: &subtrees)
                }
            case S_IFLNK:  // sent only to a server with `metadata`; the session leaves them out otherwise
                let warning = Self.appendSymlink(name, in: directory, path: path, info: info, to: &result.entries)
                if let warning { result.warnings.append(skipped(prefix, name, warning)) }
            default:
                if let warning = Self.appendSpecial(entry, info, to: &result.entries) {
                    result.warnings.append(skipped(prefix, name, warning))
                }
            }
        }
    }

    /// The names in the folder `stream`, sorted; names that cannot be backed up are noted as
    /// warnings in `result`.
    private func listNames(_ stream: DirectoryEntries.Stream, prefix: String, into result: inout Result) -> [String] {
        var names: [String] = []
        var seen = Set<String>()
        for entry in DirectoryEntries(stream) {
            guard let name = entry.name else {
                result.warnings.append(skipped(prefix, entry.displayName, "the name is not valid UTF-8"))
                continue
            }
            // Swift compares strings by canonical equivalence: "é" composed and decomposed are one
            // name to the protocol, so only the first of such a pair can be backed up.
            guard seen.insert(name).inserted else {
                result.warnings.append(skipped(prefix, name, "another name here differs only in Unicode normalization"))
                continue
            }
            names.append(name)
        }
        return names.sorted()
    }

    /// Walks the subfolder `name` of `directory` at once, or leaves it in `subtrees` when given.
    private func descend(
        into name: String, of directory: Int32, path: String, matcher: IgnoreMatcher, into result: inout Result,
        deferring subtrees: inout [Subtree]?
    ) {
        if listingOnly && subtrees != nil {
            subtrees!.append(Subtree(prefix: path, position: result.entries.count - 1, matcher: matcher))
            return
        }
        let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard child >= 0 else {
            result.warnings.append(Self.unopenable(path))
            return
        }
        var none: [Subtree]? = nil
        walk(child, prefix: path, matcher: matcher, into: &result, deferring: &none)
    }

    /// Whether the entry at `path` is left out: by the rules, or for its size (noted in `result`).
    private func isExcluded(
        _ path: String, _ info: stat, in directory: Int32, matcher: IgnoreMatcher, into result: inout Result
    ) -> Bool {
        let kind = info.st_mode & S_IFMT
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if !matcher.isEmpty && matcher.isExcluded(path, isFolder: kind == S_IFDIR)
            || (kind != S_IFDIR && exclusion.crossesDevice(UInt64(info.st_dev)))
            || (kind == S_IFDIR && exclusion.excludeCaches && ExclusionFilter.isCacheFolder(name, in: directory))
        {
            result.noteExcluded(path, in: path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "")
            return true
        }
        if kind == S_IFREG, let limit = exclusion.maxFileSize, Int64(info.st_size) > limit {
            result.tooLarge.append(
                FileResult(
                    path: path,
                    error: ErrorMessage(
                        code: "tooLarge",
                        message: "\(SnapshotsClient.byteCount(Int64(info.st_size))) is over --exclude-larger-than")))
            return true
        }
        return false
    }

    private func skipped(_ prefix: String, _ name: String, _ reason: String) -> FileResult {
        FileResult(
            path: prefix.isEmpty ? name : prefix + "/" + name, error: ErrorMessage(code: "skipped", message: reason))
    }
}
