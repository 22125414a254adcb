/// What `--watch` saw change since the last run started, by source folder; or that the next run
/// is to scan everything (the first run, a queue overflow, a watch incomplete or lost, an error).
public struct WatchChanges: Sendable, Equatable {
    /// The changed folders by source (its path as watched); `nil` when everything is to be scanned.
    public private(set) var bySource: [String: FolderChanges]?

    /// - Parameter full: whether everything is to be scanned.
    public init(full: Bool) {
        bySource = full ? nil : [:]
    }

    /// Whether the run is to scan everything.
    public var isFull: Bool { bySource == nil }

    /// Everything is to be scanned.
    public mutating func scanEverything() { bySource = nil }

    /// Notes that the entries of `folder` (an absolute path below `source`) changed.
    public mutating func changed(folder: String, in source: String) {
        guard let relative = Self.relative(folder, to: source) else { return scanEverything() }
        bySource?[source, default: FolderChanges()].changed.insert(relative)
    }

    /// Notes that `folder` (an absolute path below `source`) appeared, with whatever it holds.
    public mutating func appeared(folder: String, in source: String) {
        guard let relative = Self.relative(folder, to: source), !relative.isEmpty else { return scanEverything() }
        bySource?[source, default: FolderChanges()].appeared.insert(relative)
    }

    /// What changed in `source`: no folder when nothing was seen there; `nil` when everything is
    /// to be scanned.
    public func changes(of source: String) -> FolderChanges? {
        bySource.map { $0[source] ?? FolderChanges() }
    }

    /// `folder` relative to `source` (`""` for the source itself), or `nil` when it is not below it.
    private static func relative(_ folder: String, to source: String) -> String? {
        if folder == source { return "" }
        let prefix = source.hasSuffix("/") ? source : source + "/"
        guard folder.hasPrefix(prefix), folder.count > prefix.count else { return nil }
        return String(folder.dropFirst(prefix.count))
    }
}
