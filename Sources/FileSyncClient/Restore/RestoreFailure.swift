import FileSyncCore

/// Why a restore session ended without restoring.
public enum RestoreFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered `ERROR` (e.g. `notFound`).
    case refused(ErrorMessage)
    /// The connection closed before the session was over.
    case connectionClosed

    public var description: String {
        switch self {
        case .refused(let error): "the server refused: \(error.message) [\(error.code)]"
        case .connectionClosed: "the server closed the connection before the restore was over"
        }
    }
}
