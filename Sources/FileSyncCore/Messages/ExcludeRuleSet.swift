/// Client → server, in `DONE.excludeRules` (capability `excludeRules`, Protocol.md §6.5): one set
/// of the exclusion rules a backup ran with, so that a mirroring backup also keeps the stored paths
/// the rules exclude that are gone from the source, as rsync's `--delete` spares excluded files on
/// the receiving side.
public struct ExcludeRuleSet: Codable, Sendable, Equatable {
    /// The folder the rules apply in, relative to the client's folder on the server: "" for the
    /// top, a source's name with several sources, or the folder holding a `.filesyncignore`.
    public var folder: String
    /// `true` for the rules given as `--exclude` and `--exclude-from` (applied at a source's root
    /// after its `.filesyncignore` files, as git's `info/exclude`); `false` or absent for the text of
    /// the `.filesyncignore` file in ``folder``.
    public var root: Bool?
    /// The rules in gitignore syntax, one a line.
    public var text: String

    /// A set of rules in `folder`: a source's root rules when `root`, else a `.filesyncignore`'s.
    public init(folder: String, root: Bool = false, text: String) {
        self.folder = folder
        self.root = root ? true : nil
        self.text = text
    }

    /// Whether this set holds the root rules of a source.
    public var isRoot: Bool { root == true }

    /// Most sets in one `DONE`.
    public static let maxSets = 10_000
    /// Most bytes of all the sets' texts together.
    public static let maxTotalBytes = 4 << 20
}
