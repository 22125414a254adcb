/// The folders of one source that the watch saw change since its last scan (paths relative to
/// the source, `""` for the source itself): what a partial rescan lists again.
public struct FolderChanges: Sendable, Equatable {
    /// Folders whose entries changed (created, written, moved, deleted): listed again, one level.
    public var changed: Set<String> = []
    /// Folders that appeared (created or moved in): walked in full, as what was written in them
    /// before their watch was added was not seen.
    public var appeared: Set<String> = []

    public init(changed: Set<String> = [], appeared: Set<String> = []) {
        self.changed = changed
        self.appeared = appeared
    }

    /// The folder holding `path` (`""` for a path at the top).
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// The folders holding `path`, the nearest first, up to `""`.
    static func ancestors(of path: String) -> [String] {
        var found: [String] = []
        var current = path
        while !current.isEmpty {
            current = parent(of: current)
            found.append(current)
        }
        return found
    }
}
