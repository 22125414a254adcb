import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The current `errno` as text, e.g. "No space left on device".
func errnoDescription(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

extension FileSyncError {
    /// A `storageFailed` error naming the operation, the path and the system's reason.
    static func storage(_ operation: String, _ path: String, errno code: Int32 = errno) -> FileSyncError {
        FileSyncError(.storageFailed, "cannot \(operation) \"\(path)\": \(errnoDescription(code))")
    }
}
