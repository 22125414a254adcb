/// The kind of a special file (capability `specials`, Protocol.md §6.10): never opened, recorded by
/// its kind, mode, owner, mtime and, for a device, its device number.
public enum SpecialKind: String, Codable, Sendable, Hashable, CaseIterable {
    case fifo
    case socket
    /// A character device.
    case char
    /// A block device.
    case block

    /// The kind's code in manifest frames and snapshot trees.
    public var code: UInt8 {
        switch self {
        case .fifo: 0
        case .socket: 1
        case .char: 2
        case .block: 3
        }
    }

    public init?(code: UInt8) {
        guard let kind = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = kind
    }

    /// Whether the kind has a device number.
    public var isDevice: Bool { self == .char || self == .block }
}
