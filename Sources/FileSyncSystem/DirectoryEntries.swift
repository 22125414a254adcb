#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The entries of an open directory stream, `.` and `..` left out: the one place that decodes
/// `d_name`. Each name comes as its raw bytes, so that a caller can refuse (or report) a name that
/// is not valid UTF-8 instead of having it silently repaired.
public struct DirectoryEntries: Sequence, IteratorProtocol {
    /// One entry: its name's bytes and the file type the directory records (`DT_*`, may be
    /// `DT_UNKNOWN` on file systems that do not record it).
    public struct Entry {
        public var nameBytes: [UInt8]
        public var type: UInt8

        /// The name, if it is valid UTF-8.
        public var name: String? { String(validating: nameBytes, as: UTF8.self) }
        /// The name with invalid UTF-8 replaced, for messages only.
        public var displayName: String { String(decoding: nameBytes, as: UTF8.self) }
    }

    /// What `opendir(3)` and `fdopendir(3)` return on this platform.
    #if canImport(Darwin)
        public typealias Stream = UnsafeMutablePointer<DIR>
    #else
        public typealias Stream = OpaquePointer
    #endif

    private let stream: Stream

    /// Iterates `stream` (from `opendir` or `fdopendir`), which the caller keeps and closes.
    public init(_ stream: Stream) {
        self.stream = stream
    }

    public mutating func next() -> Entry? {
        while let entry = readdir(stream) {
            // One allocation per entry, the name's bytes; none for "." and "..", told apart first.
            let bytes: [UInt8]? = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let name = raw.prefix { $0 != 0 }
                return name.count <= 2 && name.allSatisfy({ $0 == 0x2E }) ? nil : Array(name)
            }
            guard let bytes else { continue }
            return Entry(nameBytes: bytes, type: entry.pointee.d_type)
        }
        return nil
    }

    /// The UTF-8 names in the folder at `path` (names that are not valid UTF-8 are left out), or
    /// `nil` when it cannot be opened.
    public static func names(atPath path: String) -> [String]? {
        guard let stream = opendir(path) else { return nil }
        defer { closedir(stream) }
        return DirectoryEntries(stream).compactMap(\.name)
    }

    /// The UTF-8 names in the open folder `fd` (which stays open and is read from its start).
    public static func names(inDescriptor fd: Int32) -> [String] {
        let copy = dup(fd)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return []
        }
        defer { closedir(stream) }
        rewinddir(stream)
        return DirectoryEntries(stream).compactMap(\.name)
    }
}
