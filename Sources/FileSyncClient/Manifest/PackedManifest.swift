import FileSyncCore

/// Manifest entries held compactly: the paths in a ``PathList`` and the other fields in arrays of
/// their own, about 22 bytes per entry besides its path (an array of ``ManifestEntry`` costs about
/// 100, most of it for each path's own String storage). A million entries then fit in about 40 MB,
/// so that the client's memory does not grow past its budget with the tree. Entries are read back
/// as ``ManifestEntry`` values, made on demand.
public struct PackedManifest: Sendable {
    private var paths = PathList()
    private var sizes = BlockArray<Int64>()
    private var mtimes = BlockArray<Int64>()
    /// Permission bits (at most `0o7777`), and ``folderBit`` for folders.
    private var modes = BlockArray<UInt16>()
    /// The number of files (entries that are not folders).
    public private(set) var fileCount = 0

    private static let folderBit: UInt16 = 0x8000

    public init() {}

    /// Appends `entry`.
    ///
    /// - Throws: `limitExceeded` past ``PathList/maxBytes`` of paths.
    public mutating func append(_ entry: ManifestEntry) throws {
        var path = entry.path
        try path.withUTF8 { try paths.append(UnsafeRawBufferPointer($0)) }
        sizes.append(entry.size)
        mtimes.append(entry.mtimeNs)
        modes.append(UInt16(truncatingIfNeeded: entry.mode & 0o7777) | (entry.type == .dir ? Self.folderBit : 0))
        if entry.type == .file { fileCount += 1 }
    }

    /// Appends every entry of `other`.
    public mutating func append(contentsOf other: PackedManifest) throws {
        try paths.append(contentsOf: other.paths)
        for position in 0..<other.count {
            sizes.append(other.sizes[position])
            mtimes.append(other.mtimes[position])
            modes.append(other.modes[position])
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
        modes[position] & Self.folderBit != 0 ? .dir : .file
    }
}

// MARK: - Collection

extension PackedManifest: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { paths.count }

    public subscript(position: Int) -> ManifestEntry {
        let mode = modes[position]
        return ManifestEntry(
            path: paths.path(at: position), type: mode & Self.folderBit != 0 ? .dir : .file, size: sizes[position],
            mtimeNs: mtimes[position], mode: UInt32(mode & 0o7777))
    }
}
