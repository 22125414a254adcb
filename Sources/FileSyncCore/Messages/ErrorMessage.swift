/// Either direction: something went wrong. As a message on its own it ends the session.
public struct ErrorMessage: Codable, Sendable, Equatable, Error {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public init(_ error: FileSyncError) {
        self.init(code: error.code.rawValue, message: error.message)
    }
}
