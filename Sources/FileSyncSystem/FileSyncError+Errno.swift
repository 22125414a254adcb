import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension FileSyncError {
    /// An error for a failed system call: `message`, then the system's words for `value` (as
    /// `strerror` gives them), with `value` kept as the typed ``FileSyncError/cause``.
    public init(_ code: Code, _ message: String, errno value: Int32) {
        self.init(code, "\(message): \(Self.errnoText(value))", cause: .errno(value))
    }

    /// The system's words for an `errno` value, e.g. "No space left on device": the one place that
    /// turns an `errno` into text, for errors and for the reasons a file is skipped.
    public static func errnoText(_ value: Int32) -> String {
        String(cString: strerror(value))
    }
}
