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
    /// The device and inode of the regular files with more than one name, by position, until
    /// ``resolveHardLinks()``.
    private var linkKeys: [Int: LinkKey] = [:]
    /// The hard links: each later name of a file, with the position of its first name.
    private var links: [Int: Int] = [:]
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
            case .dir: Self.folderBit
            case .symlink: Self.symlinkBit
            case .special: Self.folderBit | Self.symlinkBit
            // The caller records the link (``keeping(symlinks:specials:hardlinks:)``).
            case .file, .hardlink: UInt16(0)
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
        for (position, key) in other.linkKeys { linkKeys[modes.count + position] = key }
        for (position, first) in other.links { links[modes.count + position] = modes.count + first }
        for position in 0..<other.count {
            sizes.append(other.sizes[position])
            mtimes.append(other.mtimes[position])
            modes.append(other.modes[position])
            uids.append(other.uids[position])
            gids.append(other.gids[position])
        }
        fileCount += other.fileCount
    }

    /// Appends the entries of `other` at `range`, with what is noted of them (links noted by
    /// ``noteLinks(_:)`` and not yet resolved included): a partial rescan reuses the previous scan's
    /// entries of the folders that did not change.
    ///
    /// - Throws: `limitExceeded` past ``PathList/maxBytes`` of paths.
    public mutating func append(contentsOf other: PackedManifest, range: Range<Int>) throws {
        let shift = modes.count - range.lowerBound
        for position in range {
            try other.paths.withBytes(at: position) { try paths.append($0) }
            if let target = other.targets[position] { targets[position + shift] = target }
            if let attributes = other.xattrs[position] { xattrs[position + shift] = attributes }
            if let special = other.specials[position] { specials[position + shift] = special }
            if let key = other.linkKeys[position] { linkKeys[position + shift] = key }
            // A resolved link stays one only when its first name comes along.
            if let first = other.links[position], range.contains(first) { links[position + shift] = first + shift }
            sizes.append(other.sizes[position])
            mtimes.append(other.mtimes[position])
            modes.append(other.modes[position])
            uids.append(other.uids[position])
            gids.append(other.gids[position])
            if Self.type(of: other.modes[position]) == .file && links[position + shift] == nil { fileCount += 1 }
        }
    }

    /// The position after the last entry below the folder at `position`: in a scan's order (depth
    /// first), a folder's entries follow its own.
    public func subtreeEnd(of position: Int) -> Int {
        paths.withBytes(at: position) { folder in
            var end = position + 1
            while end < count
                && paths.withBytes(
                    at: end,
                    { $0.count > folder.count && $0[folder.count] == UInt8(ascii: "/") && $0.starts(with: folder) })
            {
                end += 1
            }
            return end
        }
    }

    /// The UTF-8 byte count of the path at `position`.
    public func pathByteCount(at position: Int) -> Int { paths.byteCount(at: position) }

    /// The path of the entry at `position`, without making the whole entry.
    public func path(at position: Int) -> String { paths.path(at: position) }

    /// The size of the entry at `position`.
    public func size(at position: Int) -> Int64 { sizes[position] }

    /// The type of the entry at `position`.
    public func type(at position: Int) -> ManifestEntry.EntryType {
        links[position] != nil ? .hardlink : Self.type(of: modes[position])
    }

    /// The UTF-8 byte count of the target of the entry at `position`; 0 unless it is a symlink.
    public func targetByteCount(at position: Int) -> Int { targets[position]?.utf8.count ?? 0 }

    /// The bytes of the extended attributes of the entry at `position` in a manifest frame.
    public func xattrByteCount(at position: Int) -> Int { xattrs[position]?.encodedBytes ?? 0 }

    /// Whether any entry is a symlink.
    public var hasSymlinks: Bool { !targets.isEmpty }

    /// A file's identity on its device.
    public struct LinkKey: Hashable, Sendable {
        public var device: UInt64
        public var inode: UInt64

        public init(device: UInt64, inode: UInt64) {
            self.device = device
            self.inode = inode
        }
    }

    /// Notes that the last entry appended, a regular file, has other names (`st_nlink > 1`).
    public mutating func noteLinks(_ key: LinkKey) { linkKeys[modes.count - 1] = key }

    /// The identity noted for the entry at `position` by ``noteLinks(_:)``, if any.
    public func linkKey(at position: Int) -> LinkKey? { linkKeys[position] }

    /// Turns each later name of a file noted by ``noteLinks(_:)`` into a hard link to its first
    /// name (in manifest order); call once the manifest is complete.
    public mutating func resolveHardLinks() {
        var first: [LinkKey: Int] = [:]
        for position in linkKeys.keys.sorted() {
            let key = linkKeys[position]!
            if let earlier = first[key] {
                links[position] = earlier
                fileCount -= 1
            } else {
                first[key] = position
            }
        }
        linkKeys = [:]
    }

    /// Whether any entry is a hard link.
    public var hasHardLinks: Bool { !links.isEmpty }

    /// Whether any entry is a special file.
    public var hasSpecials: Bool { !specials.isEmpty }

    /// The entries that are not symlinks (unless `symlinks`) nor special files (unless `specials`),
    /// for a server without `metadata` or `specials`, and the paths of those left out.
    ///
    /// - Throws: `limitExceeded` past ``PathList/maxBytes`` of paths (not reached: it only shrinks).
    /// Without `hardlinks`, each hard link becomes a file again (sent in full, as before).
    public func keeping(
        symlinks: Bool, specials: Bool, hardlinks: Bool = true
    ) throws -> (manifest: PackedManifest, symlinks: [String], specials: [String]) {
        var kept = PackedManifest()
        var (linkPaths, nodePaths): ([String], [String]) = ([], [])
        var moved: [Int: Int] = [:]
        for position in indices {
            if !symlinks && targets[position] != nil {
                linkPaths.append(path(at: position))
            } else if !specials && self.specials[position] != nil {
                nodePaths.append(path(at: position))
            } else if let first = links[position] {
                var file = self[position]
                if hardlinks, let target = moved[first] {
                    try kept.append(file)
                    kept.links[kept.count - 1] = target
                } else {
                    (file.type, file.target, file.size) = (.file, nil, sizes[position])
                    try kept.append(file)
                }
            } else {
                moved[position] = kept.count
                try kept.append(self[position])
            }
        }
        return (kept, linkPaths, nodePaths)
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
        if let first = links[position] {
            return ManifestEntry(
                path: paths.path(at: position), type: .hardlink, size: 0, mtimeNs: mtimes[position],
                mode: UInt32(mode & 0o7777), target: paths.path(at: first), uid: uids[position], gid: gids[position])
        }
        return ManifestEntry(
            path: paths.path(at: position), type: Self.type(of: mode), size: sizes[position],
            mtimeNs: mtimes[position], mode: UInt32(mode & 0o7777), target: targets[position], uid: uids[position],
            gid: gids[position], xattrs: xattrs[position], special: specials[position]?.kind,
            device: specials[position]?.device)
    }
}
