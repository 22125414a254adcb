/// Either direction: something went wrong. As a message on its own it ends the session.
public struct ErrorMessage: Codable, Sendable, Equatable, Error {
    public var code: String
    public var message: String
    /// With `queueFull` or `serverBusy`: the seconds after which the server expects a new attempt to
    /// get in, within ``retryAfterRange``. Optional and new: a client that does not know it ignores
    /// it (unknown JSON fields are ignored, Protocol.md §1) and keeps its own backoff.
    public var retryAfterSeconds: Int?

    /// The hints a server may give, and the bounds a client holds any hint to.
    public static let retryAfterRange = 1...600

    public init(code: String, message: String, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    public init(_ error: FileSyncError) {
        self.init(code: error.code.rawValue, message: error.message, retryAfterSeconds: error.retryAfterSeconds)
    }

    /// `seconds` within ``retryAfterRange``.
    public static func boundedRetry(_ seconds: Int) -> Int {
        min(max(seconds, retryAfterRange.lowerBound), retryAfterRange.upperBound)
    }
}
