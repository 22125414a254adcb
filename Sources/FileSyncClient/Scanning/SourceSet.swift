import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Several source folders backed up under one id (`--source` given more than once): each lands in
/// a folder of its own below the client's folder on the server, named after its last path
/// component, so that one manifest holds them all (`photos/...`, `docs/...`) and a restore can name
/// one. (A single source keeps its files at the top level, as it always did: no ``SourceSet``.)
public struct SourceSet: Sendable, Equatable {
    /// One source folder and its name on the server.
    public struct Member: Sendable, Equatable {
        public let name: String
        public let path: String
    }

    /// Sorted by name, so that the merged manifest stays in name order.
    public let members: [Member]

    /// Names each folder (absolute, standardized paths) after its last path component.
    ///
    /// - Throws: `invalidSetting` for a folder without a usable last component (`/`), a folder
    ///   given twice, two folders with the same last component (naming both), or a folder inside
    ///   another.
    public init(paths: [String]) throws {
        var byName: [String: String] = [:]
        for path in paths {
            let name = String(path.split(separator: "/").last ?? "")
            guard !name.isEmpty, (try? RelativePath(validating: name)) != nil else {
                throw FileSyncError(
                    .invalidSetting, "the source \(path) has no last path component to name its folder on the server")
            }
            if let other = byName[name] {
                throw FileSyncError(
                    .invalidSetting,
                    other == path
                        ? "the source \(path) is given twice"
                        : "the sources \(other) and \(path) would both be stored as \"\(name)\" on the server "
                            + "(several sources are named by their last path component): back up one of them "
                            + "under another id, or through a folder (or bind mount) of another name")
            }
            byName[name] = path
        }
        // One source inside another would store its files twice, under both names.
        for inner in paths {
            if let outer = paths.first(where: { $0 != inner && inner.hasPrefix($0 == "/" ? $0 : $0 + "/") }) {
                throw FileSyncError(
                    .invalidSetting,
                    "the source \(inner) lies inside the source \(outer): its files would be stored twice; "
                        + "give only \(outer) (or exclude \(inner.dropFirst(outer.count + 1)) from it)")
            }
        }
        members = byName.map { Member(name: $0.key, path: $0.value) }.sorted { $0.name < $1.name }
    }

    /// The local path of the manifest path `path` (`name/rest` → the member's folder + `/rest`), or
    /// `nil` when it names no member.
    public func localPath(of path: String) -> String? {
        let slash = path.firstIndex(of: "/")
        let name = slash.map { String(path[..<$0]) } ?? path
        guard let member = members.first(where: { $0.name == name }) else { return nil }
        return slash.map { member.path + path[$0...] } ?? member.path
    }

    /// Scans every member and merges the results: each member's folder as a folder entry named
    /// after it, its entries below it. Also returns the members that hold nothing at all.
    /// - Parameter scanning: scans one member (`--watch` reuses its last scans).
    public func scan(
        exclusion: ExclusionFilter, xattrs: Bool = false,
        with scanning: (SourceScanner) async throws -> SourceScanner.Result = { try await $0.scan() }
    ) async throws -> (result: SourceScanner.Result, empty: [String]) {
        var merged = SourceScanner.Result()
        var empty: [String] = []
        for member in members {
            let scan = try await scanning(SourceScanner(source: member.path, exclusion: exclusion, xattrs: xattrs))
            if scan.entries.isEmpty { empty.append(member.path) }
            try merged.entries.append(try Self.folderEntry(member))
            for entry in scan.entries {
                var entry = entry
                entry.path = member.name + "/" + entry.path
                // A hard link names its first name, in the same source.
                if entry.type == .hardlink, let target = entry.target { entry.target = member.name + "/" + target }
                try merged.entries.append(entry)
            }
            merged.warnings += scan.warnings.map { Self.prefixed($0, member.name) }
            merged.tooLarge += scan.tooLarge.map { Self.prefixed($0, member.name) }
            merged.excluded += scan.excluded
            for (folder, text) in scan.ruleTexts {
                merged.ruleTexts[folder.isEmpty ? member.name : member.name + "/" + folder] = text
            }
            for (folder, paths) in scan.excludedPathsIn {
                merged.keepExcludedPaths(
                    paths.map { member.name + "/" + $0 }, in: folder.isEmpty ? member.name : member.name + "/" + folder)
            }
        }
        return (merged, empty)
    }

    /// The entry of a member's folder itself: its mode, mtime and owner.
    private static func folderEntry(_ member: Member) throws -> ManifestEntry {
        var info = stat()
        guard stat(member.path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw FileSyncError(.invalidSetting, "cannot open the source folder \"\(member.path)\"", errno: errno)
        }
        return ManifestEntry(
            path: member.name, type: .dir, size: 0,
            mtimeNs: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            mode: UInt32(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid)
    }

    private static func prefixed(_ result: FileResult, _ name: String) -> FileResult {
        var result = result
        result.path = name + "/" + result.path
        return result
    }
}
