/// Client → server: the file being sent is abandoned (it changed or became unreadable while being read).
public struct FileAbort: Codable, Sendable, Equatable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}
