import FileSyncCore

/// The server ended the session with an `ERROR` message.
public struct ServerRefusal: Error, CustomStringConvertible {
    public let error: ErrorMessage
    public var description: String { "the server refused: \(error.message) [\(error.code)]" }
}
