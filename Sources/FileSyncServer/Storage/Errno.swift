import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension FileSyncError {
    /// A `storageFailed` error naming the operation, the path and the system's reason.
    static func storage(_ operation: String, _ path: String, errno code: Int32 = errno) -> FileSyncError {
        FileSyncError(.storageFailed, "cannot \(operation) \"\(path)\"", errno: code)
    }

    /// A folder that could not be created, with a code for its cause (Protocol.md §7): a client
    /// told `permissionDenied`, `nameTooLong` or `noSpace` knows what to fix; other causes are
    /// `storageFailed`.
    static func folderCreation(_ path: String, errno code: Int32) -> FileSyncError {
        FileSyncError(folderCreationCode(code), "cannot create folder \"\(path)\"", errno: code)
    }

    static func folderCreationCode(_ code: Int32) -> Code {
        switch code {
        case EACCES, EPERM, EROFS: .permissionDenied
        case ENAMETOOLONG: .nameTooLong
        case ENOSPC, EDQUOT: .noSpace
        default: .storageFailed
        }
    }
}
