/// Decides which paths of a source are excluded, with gitignore's semantics: the rules of the
/// deepest `.filesyncignore` that has a matching pattern win, the last matching pattern of a file
/// decides, and `--exclude`/`--exclude-from` (root rules) come last, as git's `info/exclude`.
///
/// Pure: it reads no file. The scanner gives it each folder's rules as it enters the folder and
/// asks about each entry; an excluded folder is not entered, so nothing below it can be
/// re-included (as in git).
public struct IgnoreMatcher: Sendable {
    /// The rules of the `.filesyncignore` files of the current folder and its parents, shallowest
    /// first.
    public private(set) var stack: [IgnoreRules] = []
    /// `--exclude` and `--exclude-from`, applied at the root.
    public let rootRules: IgnoreRules

    public init(rootRules: IgnoreRules = IgnoreRules(patterns: [], folder: "")) {
        self.rootRules = rootRules
    }

    /// Whether any rule is in force at all.
    public var isEmpty: Bool { stack.isEmpty && rootRules.patterns.isEmpty }

    /// The matcher for the folders below one whose own file holds `rules` (whose folder must be
    /// the current folder or below it).
    public func entering(_ rules: IgnoreRules) -> IgnoreMatcher {
        var copy = self
        if !rules.patterns.isEmpty { copy.stack.append(rules) }
        return copy
    }

    /// Whether `path` (relative to the source, its parent folders known not to be excluded) is
    /// excluded.
    public func isExcluded(_ path: String, isFolder: Bool) -> Bool {
        var budget = Int.max
        return isExcluded(path, isFolder: isFolder, budget: &budget)
    }

    /// ``isExcluded(_:isFolder:)`` spending a step of `budget` for each byte a pattern compares;
    /// once it is spent the answer means nothing (the caller checks `budget`).
    public func isExcluded(_ path: String, isFolder: Bool, budget: inout Int) -> Bool {
        let bytes = Array(path.utf8)
        let name = bytes.lastIndex(of: UInt8(ascii: "/")).map { bytes[($0 + 1)...] } ?? bytes[...]
        for rules in stack.reversed() {
            if let decision = rules.decision(path: bytes, name: name, isFolder: isFolder, budget: &budget) {
                return decision
            }
        }
        return rootRules.decision(path: bytes, name: name, isFolder: isFolder, budget: &budget) ?? false
    }

    /// Whether `path` or one of its parent folders is excluded, given the rules of every folder
    /// on the way (`rules(folder)`, "" for the root): what a walk would decide.
    public static func isExcluded(
        _ path: String, isFolder: Bool, rootRules: IgnoreRules, rules: (String) -> IgnoreRules?
    ) -> Bool {
        var matcher = IgnoreMatcher(rootRules: rootRules)
        let components = path.split(separator: "/").map(String.init)
        var folder = ""
        for (index, component) in components.enumerated() {
            if let own = rules(folder) { matcher = matcher.entering(own) }
            let current = folder.isEmpty ? component : folder + "/" + component
            let last = index == components.count - 1
            if matcher.isExcluded(current, isFolder: last ? isFolder : true) { return true }
            folder = current
        }
        return false
    }
}
