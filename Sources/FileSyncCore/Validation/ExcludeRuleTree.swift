/// The exclusion rules of a client's backup (`DONE.excludeRules`), checked as they arrived and
/// arranged to answer what the client's scan would have answered: whether a stored path, or a
/// folder above it, is excluded (Protocol.md §6.5).
///
/// Each source's root rules (``ExcludeRuleSet/isRoot``) apply below its folder ("" for a single
/// source, the source's name with several) after the `.filesyncignore` rules of the folders on the
/// way, the deepest deciding first, as ``IgnoreMatcher`` decides on the client.
public struct ExcludeRuleTree: Sendable {
    /// The root rules by source folder.
    private let roots: [String: IgnoreRules]
    /// The `.filesyncignore` rules by the folder that holds the file.
    private let files: [String: IgnoreRules]

    /// No rules: nothing is excluded.
    public static let none = ExcludeRuleTree(roots: [:], files: [:])

    private init(roots: [String: IgnoreRules], files: [String: IgnoreRules]) {
        self.roots = roots
        self.files = files
    }

    /// Checks `sets` as they arrived: at most ``ExcludeRuleSet/maxSets`` sets and
    /// ``ExcludeRuleSet/maxTotalBytes`` of text, each folder "" or a valid relative path, and no
    /// folder named twice for the same kind of rules.
    public init(validating sets: [ExcludeRuleSet]) throws {
        guard sets.count <= ExcludeRuleSet.maxSets else {
            throw FileSyncError(.limitExceeded, "DONE.excludeRules holds more than \(ExcludeRuleSet.maxSets) sets")
        }
        guard sets.reduce(0, { $0 + $1.text.utf8.count }) <= ExcludeRuleSet.maxTotalBytes else {
            throw FileSyncError(
                .limitExceeded, "DONE.excludeRules holds more than \(ExcludeRuleSet.maxTotalBytes) bytes of rules")
        }
        var roots: [String: IgnoreRules] = [:]
        var files: [String: IgnoreRules] = [:]
        for set in sets {
            let folder = set.folder.isEmpty ? "" : try RelativePath(validating: set.folder).string
            let rules = IgnoreRules(text: set.text, folder: folder)
            if set.isRoot {
                guard !folder.utf8.contains(UInt8(ascii: "/")) else {
                    throw FileSyncError(
                        .malformedMessage, "DONE.excludeRules names a source below a folder: \"\(folder)\"")
                }
                guard roots.updateValue(rules, forKey: folder) == nil else {
                    throw FileSyncError(
                        .malformedMessage, "DONE.excludeRules names the root rules of \"\(folder)\" twice")
                }
            } else {
                guard files.updateValue(rules, forKey: folder) == nil else {
                    throw FileSyncError(.malformedMessage, "DONE.excludeRules names the rules of \"\(folder)\" twice")
                }
            }
        }
        guard roots[""] == nil || roots.count == 1 else {
            throw FileSyncError(
                .malformedMessage, "DONE.excludeRules mixes a single source's rules with named sources'")
        }
        self.init(roots: roots, files: files)
    }

    /// How many pattern steps deciding one stored path may spend on the rules (``Wildmatch``): far
    /// more than any real path and rules need (about a millisecond), far less than a pathological
    /// pattern with several `**` could ask.
    public static let stepBudget = 1_000_000

    /// Whether no rule is in force.
    public var isEmpty: Bool { roots.values.allSatisfy(\.patterns.isEmpty) && files.isEmpty }

    /// Whether `path` (relative to the client's folder; `isFolder` says whether it is a folder) or
    /// a folder above it is excluded by the rules.
    public func excludes(_ path: String, isFolder: Bool) -> Bool {
        var budget = Int.max
        return excludes(path, isFolder: isFolder, budget: &budget)
    }

    /// ``excludes(_:isFolder:)`` spending steps of `budget`; once it is spent (`budget <= 0`) the
    /// answer means nothing, and the caller must not delete on it.
    public func excludes(_ path: String, isFolder: Bool, budget: inout Int) -> Bool {
        guard !isEmpty else { return false }
        let components = Self.components(of: path)
        // The source the path lies in: the one named by its first component (several sources),
        // else the only one ("").
        let top = components.first ?? ""
        let source = roots[top] != nil ? top : ""
        var matcher = IgnoreMatcher(rootRules: roots[source] ?? IgnoreRules(patterns: [], folder: source))
        var folder = source
        for (index, component) in components.enumerated().dropFirst(source.isEmpty ? 0 : 1) {
            if let own = files[folder] { matcher = matcher.entering(own) }
            let current = folder.isEmpty ? component : folder + "/" + component
            let last = index == components.count - 1
            if matcher.isExcluded(current, isFolder: last ? isFolder : true, budget: &budget) { return true }
            folder = current
        }
        return false
    }

    /// The components of `path`, split at its slashes by UTF-8 bytes (a slash followed by a
    /// combining mark is one Character with it).
    private static func components(of path: String) -> [String] {
        path.utf8.split(separator: UInt8(ascii: "/")).map { String(decoding: $0, as: UTF8.self) }
    }
}
