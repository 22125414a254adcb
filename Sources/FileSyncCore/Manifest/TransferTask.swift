/// One item of the `TASKS` list: a file the server wants.
public struct TransferTask: Codable, Sendable, Hashable {
    /// How the file is to be sent. Version 1 defines only ``Kind/full``; later kinds are offered
    /// only to clients that announce the matching capability.
    public struct Kind: RawRepresentable, Codable, Sendable, Hashable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// Send the whole file from its first byte.
        public static let full = Kind(rawValue: "full")
    }

    public var path: String
    public var kind: Kind

    public init(path: String, kind: Kind = .full) {
        self.path = path
        self.kind = kind
    }
}
