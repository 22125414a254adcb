import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes the files people edit (the server's settings, the client's profiles) and the folders
/// above them with system calls, so that a failure names the path and says why in the system's
/// words ("Permission denied"), never Foundation's "The operation could not be completed".
public enum ConfigFile {
    /// Creates `path` and the missing folders above it (`mkdir -p`), new ones with `mode`.
    ///
    /// - Throws: `code` (a setting the user must fix, unless told otherwise) naming the first folder
    ///   that could not be created.
    public static func makeFolders(
        _ path: String, mode: mode_t, code: FileSyncError.Code = .invalidSetting
    ) throws {
        var folder = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            folder += "/" + component
            guard mkdir(folder, mode) == 0 || errno == EEXIST else {
                throw FileSyncError(code, "cannot create \(folder)", errno: errno)
            }
        }
    }

    /// Replaces the file at `path` with `bytes` atomically: written to a temporary name beside
    /// it with `mode`, synced, then renamed over it. Missing folders above it are made with
    /// `folderMode`.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t, folderMode: mode_t = 0o700) throws {
        let slash = path.lastIndex(of: "/")
        if let slash, slash != path.startIndex { try makeFolders(String(path[..<slash]), mode: folderMode) }
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileSyncError(.invalidSetting, "cannot write \(path)", errno: errno) }
        let written = bytes.withUnsafeBytes { writeFully(fd, $0) } && fchmod(fd, mode) == 0 && fsync(fd) == 0
        let code = errno
        close(fd)
        guard written, rename(temporary, path) == 0 else {
            let failure = written ? errno : code
            unlink(temporary)
            throw FileSyncError(.invalidSetting, "cannot write \(path)", errno: failure)
        }
    }
}
