import FileSyncCore

/// What the server holds at a path of a client's folder, as far as planning needs to know.
public struct StoredEntry: Sendable, Hashable {
    public enum EntryType: Sendable, Hashable {
        case file
        case dir
        /// A symlink (never followed): its target is in ``StoredEntry/target``.
        case symlink
        /// A device, socket, FIFO or anything else: never followed, never overwritten silently.
        case other
        /// A parent on the way is a symlink or a file: the path cannot be reached.
        case blocked
    }

    public var type: EntryType
    public var size: Int64
    public var mtimeNs: Int64
    public var mode: UInt32
    /// A symlink's target, when it is UTF-8.
    public var target: String?
    /// The owner's numeric ids.
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    /// The recorded extended attributes of a file or folder, when planning asked for them.
    public var xattrs: [ExtendedAttribute]?
    /// For ``EntryType/other``: a FIFO, socket or device, and a device's number.
    public var special: SpecialKind?
    public var device: UInt64?

    public init(type: EntryType, size: Int64, mtimeNs: Int64, mode: UInt32, target: String? = nil) {
        self.type = type
        self.size = size
        self.mtimeNs = mtimeNs
        self.mode = mode
        self.target = target
    }
}
