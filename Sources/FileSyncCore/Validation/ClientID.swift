/// A client's name, which is also the name of its folder under the server root.
///
/// 1–64 characters of ASCII letters, digits, `.`, `_`, `-`; never `.` or `..`; never `.filesync`
/// (reserved for the server's own state).
public struct ClientID: Sendable, Hashable, CustomStringConvertible {
    public let string: String
    public static let reserved: Set<String> = [".", "..", ".filesync"]

    public init(validating string: String) throws {
        let bytes = string.utf8
        guard (1...64).contains(bytes.count) else {
            throw FileSyncError(.invalidClientID, "client id must be 1 to 64 characters long, got \(bytes.count)")
        }
        let allowed = bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default: false
            }
        }
        guard allowed else {
            throw FileSyncError(
                .invalidClientID,
                "client id \(string.debugDescription) may only contain letters, digits, '.', '_' and '-'")
        }
        guard !Self.reserved.contains(string) else {
            throw FileSyncError(.invalidClientID, "client id \(string.debugDescription) is reserved")
        }
        self.string = string
    }

    public var description: String { string }
}
