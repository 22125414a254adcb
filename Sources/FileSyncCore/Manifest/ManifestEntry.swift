/// One file, folder or symlink of the client's tree, as sent in `CLIENT_FILES_INFO`.
public struct ManifestEntry: Codable, Sendable, Hashable {
    public enum EntryType: String, Codable, Sendable {
        case file
        case dir
        /// Only with the `metadata` capability in force (Protocol.md §6.6).
        case symlink
        /// A FIFO, socket or device (`specials` in force, Protocol.md §6.10).
        case special
        /// Another name of a regular file listed earlier in the manifest, its ``target``
        /// (`hardlinks` in force, Protocol.md §6.11).
        case hardlink
    }

    /// Relative path, `/`-separated, validated by ``RelativePath``.
    public var path: String
    public var type: EntryType
    /// Size in bytes; 0 for folders; the target's UTF-8 byte count for symlinks.
    public var size: Int64
    /// Modification time as integer nanoseconds since the Unix epoch, UTC.
    public var mtimeNs: Int64
    /// Permission bits (`0o7777` at most).
    public var mode: UInt32
    /// A symlink's target, verbatim (never resolved); for a hard link, the path of the file it is
    /// another name of; absent for files and folders.
    public var target: String?
    /// The owner's numeric user and group ids (`metadata` in force; absent otherwise).
    public var uid: UInt32?
    public var gid: UInt32?
    /// The extended attributes of a file or folder, sorted by name (`xattrs` in force; absent
    /// otherwise, and on symlinks).
    public var xattrs: [ExtendedAttribute]?
    /// A special file's kind (`"special"` entries only).
    public var special: SpecialKind?
    /// A device's number (`st_rdev`; character and block devices only).
    public var device: UInt64?

    /// Longest symlink target, in UTF-8 bytes (Linux's `PATH_MAX` less its NUL).
    public static let maxTargetBytes = 4095

    public init(
        path: String, type: EntryType, size: Int64, mtimeNs: Int64, mode: UInt32, target: String? = nil,
        uid: UInt32? = nil, gid: UInt32? = nil, xattrs: [ExtendedAttribute]? = nil, special: SpecialKind? = nil,
        device: UInt64? = nil
    ) {
        self.special = special
        self.device = device
        self.xattrs = xattrs
        self.uid = uid
        self.gid = gid
        self.path = path
        self.type = type
        self.size = size
        self.mtimeNs = mtimeNs
        self.mode = mode
        self.target = target
    }

    /// This entry without its owner and extended attributes (for a session without `metadata`).
    public var withoutOwner: ManifestEntry {
        var entry = self
        (entry.uid, entry.gid, entry.xattrs) = (nil, nil, nil)
        return entry
    }

    /// This entry without its extended attributes (for a session without `xattrs`).
    public var withoutXattrs: ManifestEntry {
        var entry = self
        entry.xattrs = nil
        return entry
    }

    /// Checks every field against the protocol's rules.
    public func validated() throws -> ManifestEntry {
        _ = try RelativePath(validating: path)
        guard size >= 0, size <= ProtocolLimits.maxFileSize, type == .file || type == .symlink || size == 0 else {
            throw FileSyncError(.malformedMessage, "entry \"\(path)\" has an invalid size \(size)")
        }
        guard mode <= 0o7777 else {
            throw FileSyncError(.malformedMessage, "entry \"\(path)\" has invalid mode bits \(mode)")
        }
        guard (type == .special) == (special != nil), (special?.isDevice ?? false) == (device != nil) else {
            throw FileSyncError(
                .malformedMessage, "entry \"\(path)\": only a special file has a kind, and only a device a number")
        }
        guard (type == .symlink || type == .hardlink) == (target != nil) else {
            throw FileSyncError(
                .malformedMessage, "entry \"\(path)\": only a symlink or hard link has a target, and it must")
        }
        if type == .hardlink {
            guard size == 0, let target, (try? RelativePath(validating: target)) != nil, target != path else {
                throw FileSyncError(.malformedMessage, "hard link \"\(path)\" has an invalid target or a size")
            }
            return self
        }
        if let xattrs {
            guard type == .file || type == .dir || xattrs.isEmpty else {
                throw FileSyncError(.malformedMessage, "entry \"\(path)\" has extended attributes")
            }
            try xattrs.checkForm(of: path)
        }
        if let target {
            let bytes = target.utf8.count
            guard bytes >= 1, bytes <= Self.maxTargetBytes, Int64(bytes) == size, !target.utf8.contains(0) else {
                throw FileSyncError(
                    .malformedMessage,
                    "symlink \"\(path)\" has an invalid target (1 … \(Self.maxTargetBytes) bytes, no NUL, size = its length)"
                )
            }
        }
        return self
    }
}
