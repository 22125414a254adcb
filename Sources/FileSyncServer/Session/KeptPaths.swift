import FileSyncCore

/// The paths a mirroring backup keeps although its manifest lacks them: those the client's
/// exclusion rules left out (`HELLO.mirrorDeletionsKeeping`, Protocol.md §6.5), with everything
/// below them, as rsync's `--delete` spares excluded files. The folders above them are kept too.
struct KeptPaths: Sendable {
    private let paths: Set<String>
    private let ancestors: Set<String>

    /// Keeps nothing: a plain `mirrorDeletions`.
    static let none = KeptPaths(paths: [], ancestors: [])

    private init(paths: Set<String>, ancestors: Set<String>) {
        self.paths = paths
        self.ancestors = ancestors
    }

    /// Checks `paths` as they arrived: at most ``ProtocolLimits/maxKeptPaths``, each a valid
    /// relative path.
    init(validating paths: [String]) throws {
        guard paths.count <= ProtocolLimits.maxKeptPaths else {
            throw FileSyncError(
                .limitExceeded, "mirrorDeletionsKeeping names more than \(ProtocolLimits.maxKeptPaths) paths")
        }
        var kept = Set<String>()
        var ancestors = Set<String>()
        for path in paths {
            let valid = try RelativePath(validating: path).string
            kept.insert(valid)
            var parent = Substring(valid)
            while let slash = parent.lastIndex(of: "/") {
                parent = parent[..<slash]
                ancestors.insert(String(parent))
            }
        }
        self.init(paths: kept, ancestors: ancestors)
    }

    /// Whether `path` is a kept path or below one: it is not deleted.
    func covers(_ path: String) -> Bool {
        guard !paths.isEmpty else { return false }
        var current = Substring(path)
        while true {
            if paths.contains(String(current)) { return true }
            guard let slash = current.lastIndex(of: "/") else { return false }
            current = current[..<slash]
        }
    }

    /// Whether `path` must stay: covered, or a folder above a kept path.
    func keeps(_ path: String) -> Bool { covers(path) || ancestors.contains(path) }
}
