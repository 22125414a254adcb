/// The paths a mirroring backup keeps although its manifest lacks them: those the client's
/// exclusion rules left out (`DONE.excluded`, Protocol.md §6.5), with everything below them, as
/// rsync's `--delete` spares excluded files. The folders above them are kept too. With the
/// client's rules (`DONE.excludeRules`), so are the stored paths those rules exclude.
public struct KeptPaths: Sendable {
    private let paths: Set<String>
    private let ancestors: Set<String>
    /// The client's exclusion rules (``ExcludeRuleTree/none`` without them).
    public private(set) var rules = ExcludeRuleTree.none

    /// Keeps nothing: a plain `mirrorDeletions`.
    public static let none = KeptPaths(paths: [], ancestors: [])

    private init(paths: Set<String>, ancestors: Set<String>) {
        self.paths = paths
        self.ancestors = ancestors
    }

    /// Checks `paths` and `rules` as they arrived (``init(validating:)``,
    /// ``ExcludeRuleTree/init(validating:)``).
    public init(validating paths: [String], rules: [ExcludeRuleSet]) throws {
        try self.init(validating: paths)
        self.rules = try ExcludeRuleTree(validating: rules)
    }

    /// Checks `paths` as they arrived: at most ``ProtocolLimits/maxKeptPaths``, each a valid
    /// relative path.
    public init(validating paths: [String]) throws {
        guard paths.count <= ProtocolLimits.maxKeptPaths else {
            throw FileSyncError(
                .limitExceeded, "DONE.excluded names more than \(ProtocolLimits.maxKeptPaths) paths")
        }
        var kept = Set<String>()
        var ancestors = Set<String>()
        for path in paths {
            let valid = try RelativePath(validating: path).string
            kept.insert(valid)
            var parent = valid
            while let up = Self.parent(of: parent) {
                ancestors.insert(up)
                parent = up
            }
        }
        self.init(paths: kept, ancestors: ancestors)
    }

    /// Whether `path` is a kept path or below one: it is not deleted.
    public func covers(_ path: String) -> Bool {
        guard !paths.isEmpty else { return false }
        var current = path
        while true {
            if paths.contains(current) { return true }
            guard let up = Self.parent(of: current) else { return false }
            current = up
        }
    }

    /// `path` up to its last slash, found in its UTF-8 bytes (a slash followed by a combining mark
    /// is one Character with it, which a search by Character would miss); `nil` at the top.
    public static func parent(of path: String) -> String? {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        return String(decoding: path.utf8[..<slash], as: UTF8.self)
    }

    /// Whether `path` must stay: covered, or a folder above a kept path.
    public func keeps(_ path: String) -> Bool { covers(path) || ancestors.contains(path) }

    /// Whether `path` (a folder when `isFolder`) is covered by a kept path or excluded by the rules.
    public func covers(_ path: String, isFolder: Bool) -> Bool {
        covers(path) || rules.excludes(path, isFolder: isFolder)
    }

    /// ``covers(_:isFolder:)`` spending steps of `budget` on the rules (``ExcludeRuleTree``).
    public func covers(_ path: String, isFolder: Bool, budget: inout Int) -> Bool {
        covers(path) || rules.excludes(path, isFolder: isFolder, budget: &budget)
    }
}
