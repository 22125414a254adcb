import FileSyncCore

/// What the server holds at a path of a client's folder, as far as planning needs to know.
public struct StoredEntry: Sendable, Hashable {
    public enum EntryType: Sendable, Hashable {
        case file
        case dir
        /// A symlink, device, socket or anything else: never followed, never overwritten silently.
        case other
    }

    public var type: EntryType
    public var size: Int64
    public var mtimeNs: Int64
    public var mode: UInt32

    public init(type: EntryType, size: Int64, mtimeNs: Int64, mode: UInt32) {
        self.type = type
        self.size = size
        self.mtimeNs = mtimeNs
        self.mode = mode
    }
}
