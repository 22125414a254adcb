/// One file or folder of the client's tree, as sent in `CLIENT_FILES_INFO`.
public struct ManifestEntry: Codable, Sendable, Hashable {
    public enum EntryType: String, Codable, Sendable {
        case file
        case dir
    }

    /// Relative path, `/`-separated, validated by ``RelativePath``.
    public var path: String
    public var type: EntryType
    /// Size in bytes; 0 for folders.
    public var size: Int64
    /// Modification time as integer nanoseconds since the Unix epoch, UTC.
    public var mtimeNs: Int64
    /// Permission bits (`0o7777` at most).
    public var mode: UInt32

    public init(path: String, type: EntryType, size: Int64, mtimeNs: Int64, mode: UInt32) {
        self.path = path
        self.type = type
        self.size = size
        self.mtimeNs = mtimeNs
        self.mode = mode
    }

    /// Checks every field against the protocol's rules.
    public func validated() throws -> ManifestEntry {
        _ = try RelativePath(validating: path)
        guard size >= 0, size <= ProtocolLimits.maxFileSize, type == .file || size == 0 else {
            throw FileSyncError(.malformedMessage, "entry \"\(path)\" has an invalid size \(size)")
        }
        guard mode <= 0o7777 else {
            throw FileSyncError(.malformedMessage, "entry \"\(path)\" has invalid mode bits \(mode)")
        }
        return self
    }
}
