/// An error with a stable, machine-readable ``Code`` and a message for people.
///
/// The code's ``Code/rawValue`` is what travels in an `ERROR` message or a failed `FILE_ACK`.
public struct FileSyncError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable identifier for a class of failure.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        // MARK: - Framing and messages
        public static let frameTooLarge = Code(rawValue: "frameTooLarge")
        public static let malformedFrame = Code(rawValue: "malformedFrame")
        public static let malformedMessage = Code(rawValue: "malformedMessage")
        public static let unexpectedMessage = Code(rawValue: "unexpectedMessage")
        public static let unsupportedVersion = Code(rawValue: "unsupportedVersion")
        public static let limitExceeded = Code(rawValue: "limitExceeded")

        // MARK: - Validation
        public static let invalidPath = Code(rawValue: "invalidPath")
        public static let invalidClientID = Code(rawValue: "invalidClientID")
        public static let invalidSetting = Code(rawValue: "invalidSetting")

        // MARK: - Transfers
        public static let checksumMismatch = Code(rawValue: "checksumMismatch")
        public static let sizeMismatch = Code(rawValue: "sizeMismatch")
        public static let decompressionFailed = Code(rawValue: "decompressionFailed")
        public static let sourceChanged = Code(rawValue: "sourceChanged")
        public static let aborted = Code(rawValue: "aborted")
        public static let storageFailed = Code(rawValue: "storageFailed")
        public static let typeConflict = Code(rawValue: "typeConflict")
        /// The server may not create or change something at the path (`EACCES`, `EPERM`, `EROFS`).
        public static let permissionDenied = Code(rawValue: "permissionDenied")
        /// A name is longer than the server's filesystem allows (`ENAMETOOLONG`).
        public static let nameTooLong = Code(rawValue: "nameTooLong")
        /// The server's filesystem or quota is full (`ENOSPC`, `EDQUOT`).
        public static let noSpace = Code(rawValue: "noSpace")

        // MARK: - Authentication
        public static let authenticationFailed = Code(rawValue: "authenticationFailed")
        public static let clientKeyMismatch = Code(rawValue: "clientKeyMismatch")

        // MARK: - Session
        public static let queueFull = Code(rawValue: "queueFull")
        /// A transient condition on the server that is not the client's fault (its storage was
        /// busy): the client retries later, as for ``queueFull``.
        public static let serverBusy = Code(rawValue: "serverBusy")
        public static let timeout = Code(rawValue: "timeout")
        public static let connectionClosed = Code(rawValue: "connectionClosed")
        public static let refusedDeletion = Code(rawValue: "refusedDeletion")
        public static let internalError = Code(rawValue: "internalError")

        // MARK: - History
        /// No snapshot matches a restore request, or the snapshot lacks a requested path.
        public static let notFound = Code(rawValue: "notFound")
    }

    /// What the system said caused the failure, kept typed beside the ``message`` (which also
    /// says it in words), so that a caller can decide by it without parsing text.
    public enum Cause: Sendable, Hashable {
        /// A system call failed with this `errno` value.
        case errno(Int32)
    }

    public var code: Code
    public var message: String
    /// The system's cause, when the failure came from a system call; never sent on the wire.
    public var cause: Cause?
    /// For an error a client retries: when the server expects a retry to succeed, in seconds
    /// (`ERROR.retryAfterSeconds`, Protocol.md §4).
    public var retryAfterSeconds: Int?

    public init(_ code: Code, _ message: String, cause: Cause? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The `errno` value of a failed system call, when that is the ``cause``.
    public var errnoValue: Int32? {
        if case .errno(let value) = cause { value } else { nil }
    }

    /// This error with the hint that a retry may succeed after `seconds` (held to 1 ... 600).
    public func retrying(after seconds: Int) -> FileSyncError {
        var error = self
        error.retryAfterSeconds = ErrorMessage.boundedRetry(seconds)
        return error
    }

    public var description: String { "\(message) [\(code)]" }
}
