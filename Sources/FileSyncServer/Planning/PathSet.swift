import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A set of paths held compactly (a ``PathList`` and a hash table of 4 to 8 bytes per path): the
/// server's record of which paths a manifest names, to refuse a path listed twice and to keep what
/// the client still has when mirroring deletions. A million paths of 16 bytes cost about 30 MB.
/// Paths are compared byte for byte; the table's hash is seeded per process.
public struct PathSet: Sendable {
    private var paths = PathList()
    /// Open addressing: path index + 1, or 0 for a free slot; the count is a power of two, at least
    /// twice the number of paths.
    private var slots: [UInt32] = []

    public init() {}

    public var count: Int { paths.count }
    public var isEmpty: Bool { paths.count == 0 }

    /// Adds `path`.
    ///
    /// - Returns: `false` when it was there already.
    /// - Throws: `limitExceeded` past ``PathList/maxBytes``.
    @discardableResult
    public mutating func insert(_ path: String) throws -> Bool {
        if slots.count < 2 * (count + 1) { rebuild(capacity: Swift.max(1024, slots.count * 2)) }
        var path = path
        return try path.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            guard case .free(let slot) = find(bytes) else { return false }
            try paths.append(bytes)
            slots[slot] = UInt32(count)
            return true
        }
    }

    /// Whether `path` was added.
    public func contains(_ path: String) -> Bool {
        index(of: path) != nil
    }

    /// The position of `path` among the paths in the order they were added (from 0), if it was.
    public func index(of path: String) -> Int? {
        guard !slots.isEmpty else { return nil }
        var path = path
        return path.withUTF8 { utf8 in
            if case .found(let index) = find(UnsafeRawBufferPointer(utf8)) { return index }
            return nil
        }
    }

    // MARK: - Private

    private enum Lookup {
        case found(Int)
        case free(Int)
    }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return hasher.finalize()
    }

    /// Linear probing from the path's hash, to its slot or the first free one.
    private func find(_ bytes: UnsafeRawBufferPointer) -> Lookup {
        let mask = slots.count - 1
        var slot = Self.hash(bytes) & mask
        while true {
            let held = Int(slots[slot])
            if held == 0 { return .free(slot) }
            let same = paths.withBytes(at: held - 1) { stored in
                stored.count == bytes.count
                    && (bytes.isEmpty || memcmp(stored.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
            }
            if same { return .found(held - 1) }
            slot = (slot + 1) & mask
        }
    }

    private mutating func rebuild(capacity: Int) {
        var table = [UInt32](repeating: 0, count: capacity)
        let mask = capacity - 1
        for index in 0..<count {
            var slot = paths.withBytes(at: index) { Self.hash($0) } & mask
            while table[slot] != 0 { slot = (slot + 1) & mask }
            table[slot] = UInt32(index + 1)
        }
        slots = table
    }
}
