/// One item of the `TASKS` list: a file the server wants.
public struct TransferTask: Codable, Sendable, Hashable {
    /// How the file is to be sent. Version 1 defines only ``Kind/full``; later kinds are offered
    /// only to clients that announce the matching capability.
    public struct Kind: RawRepresentable, Codable, Sendable, Hashable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// Send the whole file from its first byte.
        public static let full = Kind(rawValue: "full")
        /// The server holds the first `offset` bytes, whose SHA-256 is `prefixSha256`: if the
        /// client's file starts the same, send from `offset`; otherwise send it whole.
        /// Only sent to clients with the `resume` capability.
        public static let resume = Kind(rawValue: "resume")
        /// Send the whole file as `CHUNK` frames (content-defined chunks, each with its SHA-256),
        /// so the server can record its chunks. Only sent to clients with the `chunks` capability.
        public static let chunked = Kind(rawValue: "chunked")
        /// Send the file's chunk list first, in `CHUNK_LIST` rounds; the server answers each with
        /// `CHUNK_NEED` and only the chunks it lacks travel. Only sent to clients with the `chunks`
        /// capability.
        public static let delta = Kind(rawValue: "delta")
    }

    public var path: String
    public var kind: Kind
    /// `resume` only: bytes the server already holds.
    public var offset: Int64?
    /// `resume` only: lowercase hex SHA-256 of those bytes.
    public var prefixSha256: String?

    public init(path: String, kind: Kind = .full, offset: Int64? = nil, prefixSha256: String? = nil) {
        self.path = path
        self.kind = kind
        self.offset = offset
        self.prefixSha256 = prefixSha256
    }
}
