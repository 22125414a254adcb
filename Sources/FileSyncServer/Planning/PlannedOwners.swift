import FileSyncCore

/// The entries of a plan whose owner is to be set, held compactly: the paths back to back in a
/// ``PathList`` and the ids beside them, about 8 bytes an entry besides its path. A first backup
/// names every entry here (each is new), so a list of ``ManifestEntry`` values cost a million-file
/// backup about 200 MB of the server's memory for the whole session.
public struct PlannedOwners: Sendable, Equatable {
    private var paths = PathList()
    private var uids: [UInt32] = []
    private var gids: [UInt32] = []

    /// One entry to give an owner.
    public struct Owner: Sendable, Equatable {
        public var path: String
        public var uid: UInt32
        public var gid: UInt32

        public init(path: String, uid: UInt32, gid: UInt32) {
            (self.path, self.uid, self.gid) = (path, uid, gid)
        }
    }

    public init() {}

    /// Appends the entry at `path`, to be owned by `uid` and `gid`.
    ///
    /// - Throws: `limitExceeded` past ``PathList/maxBytes`` of paths.
    public mutating func append(path: String, uid: UInt32, gid: UInt32) throws {
        var path = path
        try path.withUTF8 { try paths.append(UnsafeRawBufferPointer($0)) }
        uids.append(uid)
        gids.append(gid)
    }

    /// Appends every entry of `other`.
    public mutating func append(contentsOf other: PlannedOwners) throws {
        try paths.append(contentsOf: other.paths)
        uids += other.uids
        gids += other.gids
    }

    public static func == (lhs: PlannedOwners, rhs: PlannedOwners) -> Bool {
        lhs.count == rhs.count && lhs.indices.allSatisfy { lhs[$0] == rhs[$0] }
    }
}

extension PlannedOwners: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { uids.count }

    public subscript(position: Int) -> Owner {
        Owner(path: paths.path(at: position), uid: uids[position], gid: gids[position])
    }
}
