/// One line of a `.filesyncignore` file (or an `--exclude`), read with gitignore's rules.
public struct IgnorePattern: Sendable, Equatable {
    /// The glob, without its `!`, leading `/` or trailing `/`, escapes kept for the matcher.
    let glob: [UInt8]
    /// `!pattern`: a match re-includes the path.
    public let negated: Bool
    /// `pattern/`: matches folders only.
    public let foldersOnly: Bool
    /// No `/` but a trailing one: matched against the last component at any depth; else against
    /// the path relative to the folder of the file that holds it.
    let basenameOnly: Bool

    /// Reads one line; `nil` for a blank line or a comment. Trailing spaces are dropped unless
    /// escaped (`\ `); `\#` and `\!` start a pattern with a literal `#` or `!`.
    public init?(line: Substring) {
        var bytes = Array(line.utf8)
        if bytes.first == UInt8(ascii: "#") { return nil }
        // A line ending in "\r\n" (a file written on Windows) ends before the "\r", as in git.
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        bytes = Self.trimmingTrailingSpaces(bytes)
        if bytes.isEmpty { return nil }
        negated = bytes.first == UInt8(ascii: "!")
        if negated { bytes.removeFirst() }
        foldersOnly = bytes.last == UInt8(ascii: "/")
        if foldersOnly { bytes.removeLast() }
        if bytes.isEmpty { return nil }
        basenameOnly = !bytes.contains(UInt8(ascii: "/"))
        if bytes.first == UInt8(ascii: "/") { bytes.removeFirst() }
        glob = bytes
    }

    /// Drops trailing spaces that are not escaped by a backslash (git's `trim_trailing_spaces`).
    private static func trimmingTrailingSpaces(_ bytes: [UInt8]) -> [UInt8] {
        var end = bytes.count
        var index = 0
        var lastSpaceRun: Int?
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "):
                if lastSpaceRun == nil { lastSpaceRun = index }
            case UInt8(ascii: "\\"):
                index += 1
                lastSpaceRun = nil
            default:
                lastSpaceRun = nil
            }
            index += 1
        }
        if let lastSpaceRun { end = lastSpaceRun }
        return Array(bytes[..<end])
    }

    /// Whether the pattern matches `path`, relative to the folder holding the pattern's file, with
    /// `name` its last component.
    func matches(relativePath path: [UInt8], name: ArraySlice<UInt8>, isFolder: Bool) -> Bool {
        var budget = Int.max
        return matches(relativePath: path, name: name, isFolder: isFolder, budget: &budget)
    }

    /// ``matches(relativePath:name:isFolder:)`` spending steps of `budget` (``Wildmatch``).
    func matches(relativePath path: [UInt8], name: ArraySlice<UInt8>, isFolder: Bool, budget: inout Int) -> Bool {
        if foldersOnly && !isFolder { return false }
        if basenameOnly { return Wildmatch.match(glob[...], name, pathname: false, budget: &budget) == .match }
        // As git's match_pathname: the literal start of the pattern is compared first and the
        // rest globbed on its own (which decides whether a `**` right after it begins the pattern).
        let prefix = literalPrefix
        guard prefix <= path.count, path.starts(with: glob[..<prefix]) else { return false }
        if prefix == glob.count && prefix == path.count { return true }
        return Wildmatch.match(glob[prefix...], path[prefix...], pathname: true, budget: &budget) == .match
    }

    /// The length of the pattern before its first `*`, `?`, `[` or `\`.
    private var literalPrefix: Int {
        glob.firstIndex { [UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "["), UInt8(ascii: "\\")].contains($0) }
            ?? glob.count
    }
}
