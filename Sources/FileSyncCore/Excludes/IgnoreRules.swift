/// The patterns of one `.filesyncignore` file (or of `--exclude` and `--exclude-from`), which
/// apply below the folder that holds it.
public struct IgnoreRules: Sendable, Equatable {
    /// The folder the rules apply to, relative to the source ("" for its root).
    public let folder: String
    public let patterns: [IgnorePattern]
    /// The text the patterns were read from ("" when they were given as patterns): what a client
    /// sends the server in `DONE.excludeRules`.
    public let text: String

    /// Reads the rules of a file's text, one pattern a line, as gitignore does.
    public init(text: String, folder: String) {
        self.folder = folder
        self.text = text
        patterns = text.split(separator: "\n", omittingEmptySubsequences: false).compactMap {
            IgnorePattern(line: $0)
        }
    }

    public init(patterns: [IgnorePattern], folder: String) {
        self.folder = folder
        self.patterns = patterns
        text = ""
    }

    /// The decision of the last pattern matching `path` (relative to the source): `true` excluded,
    /// `false` re-included by a `!` pattern, `nil` when none matches.
    func decision(path: [UInt8], name: ArraySlice<UInt8>, isFolder: Bool) -> Bool? {
        var budget = Int.max
        return decision(path: path, name: name, isFolder: isFolder, budget: &budget)
    }

    /// ``decision(path:name:isFolder:)`` spending steps of `budget` (``Wildmatch``).
    func decision(path: [UInt8], name: ArraySlice<UInt8>, isFolder: Bool, budget: inout Int) -> Bool? {
        let relative: [UInt8]
        if folder.isEmpty {
            relative = path
        } else {
            let prefix = Array(folder.utf8) + [UInt8(ascii: "/")]
            guard path.count > prefix.count, path.starts(with: prefix) else { return nil }
            relative = Array(path[prefix.count...])
        }
        for pattern in patterns.reversed()
        where pattern.matches(relativePath: relative, name: name, isFolder: isFolder, budget: &budget) {
            return !pattern.negated
        }
        return nil
    }
}
