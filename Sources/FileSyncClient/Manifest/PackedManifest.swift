import FileSyncCore

/// Manifest entries held compactly: the paths in a ``PathList`` and the other fields in arrays of
/// their own, about 30 bytes per entry (owners included) besides its path (an array of ``ManifestEntry`` costs about
/// 100, most of it for each path's own String storage). A million entries then fit in about 40 MB,
/// so that the client's memory does not grow past its budget with the tree. Entries are read back
/// as ``ManifestEntry`` values, made on demand.
public struct PackedManifest: Sendable {
    private var paths = PathList()
    private var sizes = BlockArray<Int64>()
    private var mtimes = BlockArray<Int64>()
    /// Permission bits (at most `0o7777`), and ``folderBit`` for folders, ``symlinkBit`` for
    /// symlinks, both for special files.
    private var modes = BlockArray<UInt16>()
    /// The owners (user and group ids).
    private var uids = BlockArray<UInt32>()
    private var gids = BlockArray<UInt32>()
    /// The targets of the symlinks, by position (few trees hold many).
    private var targets: [Int: String] = [:]
    /// The extended attributes of the entries that have any, by position.
    private var xattrs: [Int: [ExtendedAttribute]] = [:]
    /// The kind and device number of the special files, by position.
    private var specials: [Int: (kind: SpecialKind, device: UInt64?)] = [:]
    /// The number of files (entries that are neither folders nor symlinks).
    public private(set) var fileCount = 0

    private static let folderBit: UInt16 = 0x8000
    private static let symlinkBit: UInt16 = 0x4000

    public init() {}

    /// Appends `entry`.
    ///
    /// - Throws: `limitExceeded` past ``PathList/maxBytes`` of paths.
    public mutating func append(_ entry: ManifestEntry) throws {
        var path = entry.path
        try path.withUTF8 { try paths.append(UnsafeRawBufferPointer($0)) }
        sizes.append(entry.size)
        mtimes.append(entry.mtimeNs)
        let kindBit =
            switch entry.type {
            case .file: UInt16(0)
            case .dir: Self.folderBit
            case .symlink: Self.symlinkBit
            case .special: Self.folderBit | Self.symlinkBit
            }
        if let special = entry.special { specials[modes.count] = (special, entry.device) }
        if entry.type == .symlink { targets[modes.count] = entry.target ?? "" }
        if let attributes = entry.xattrs, !attributes.isEmpty { xattrs[modes.count] = attributes }
        modes.append(UInt16(truncatingIfNeeded: entry.mode & 0o7777) | kindBit)
        uids.append(entry.uid ?? 0)
        gids.append(entry.gid ?? 0)
        if entry.type == .file { fileCount += 1 }
    }

    /// Appends every entry of `other`.
    public mutating func append(contentsOf other: PackedManifest) throws {
        try paths.append(contentsOf: other.paths)
        for (position, target) in other.targets { targets[modes.count + position] = target }
        for (position, attributes) in other.xattrs { xattrs[modes.count + position] = attributes }
        for (position, special) in other.specials { specials[modes.count + position] = special }
        for position in 0..<other.count {
            sizes.append(other.sizes[position])
            mtimes.append(other.mtimes[position])
            modes.append(other.modes[position])
            uids.append(other.uids[position])
            gids.append(other.gids[position])
        }
        fileCount += other.fileCount
    }

    /// The UTF-8 byte count of the path at `position`.
    public func pathByteCount(at position: Int) -> Int { paths.byteCount(at: position) }

    /// The path of the entry at `position`, without making the whole entry.
    public func path(at position: Int) -> String { paths.path(at: position) }

    /// The size of the entry at `position`.
    public func size(at position: Int) -> Int64 { sizes[position] }

    /// The type of the entry at `position`.
    public func type(at position: Int) -> ManifestEntry.EntryType {
        Self.type(of: modes[position])
    }

    /// The UTF-8 byte count of the target of the entry at `position`; 0 unless it is a symlink.
    public func targetByteCount(at position: Int) -> Int { targets[position]?.utf8.count ?? 0 }

    /// The bytes of the extended attributes of the entry at `position` in a manifest frame.
    public func xattrByteCount(at position: Int) -> Int { xattrs[position]?.encodedBytes ?? 0 }

    /// Whether any entry is a symlink.
    public var hasSymlinks: Bool { !targets.isEmpty }

    /// Whether any entry is a special file.
    public var hasSpecials: Bool { !specials.isEmpty }

    /// The entries that are not symlinks (unless `symlinks`) nor special files (unless `specials`),
    /// for a server without `metadata` or `specials`, and the paths of those left out.
    ///
    /// - Throws: `limitExceeded` past ``PathList/maxBytes`` of paths (not reached: it only shrinks).
    public func keeping(
        symlinks: Bool, specials: Bool
    ) throws -> (manifest: PackedManifest, symlinks: [String], specials: [String]) {
        var kept = PackedManifest()
        var (links, nodes): ([String], [String]) = ([], [])
        for position in indices {
            if !symlinks && targets[position] != nil {
                links.append(path(at: position))
            } else if !specials && self.specials[position] != nil {
                nodes.append(path(at: position))
            } else {
                try kept.append(self[position])
            }
        }
        return (kept, links, nodes)
    }

    private static func type(of mode: UInt16) -> ManifestEntry.EntryType {
        switch mode & (folderBit | symlinkBit) {
        case folderBit | symlinkBit: .special
        case folderBit: .dir
        case symlinkBit: .symlink
        default: .file
        }
    }
}

// MARK: - Collection

extension PackedManifest: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { paths.count }

    public subscript(position: Int) -> ManifestEntry {
        let mode = modes[position]
        return ManifestEntry(
            path: paths.path(at: position), type: Self.type(of: mode), size: sizes[position],
            mtimeNs: mtimes[position], mode: UInt32(mode & 0o7777), target: targets[position], uid: uids[position],
            gid: gids[position], xattrs: xattrs[position], special: specials[position]?.kind,
            device: specials[position]?.device)
    }
}
