import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SourceScanner {
    /// The warning for a folder that cannot be listed (`errno` set by the failure). Its contents
    /// are missing from the manifest, so a run with one deletes nothing (``Result/unreadableFolders``).
    static func unreadable(_ path: String) -> FileResult {
        FileResult(
            path: path,
            error: ErrorMessage(code: "unreadable", message: "cannot list folder: \(FileSyncError.errnoText(errno))"))
    }

    /// The warning for a folder that cannot be opened (`errno` set by the failure), as ``unreadable(_:)``.
    static func unopenable(_ path: String) -> FileResult {
        FileResult(
            path: path,
            error: ErrorMessage(code: "unreadable", message: "cannot open folder: \(FileSyncError.errnoText(errno))"))
    }

    /// Appends a FIFO, socket or device (`entry` as a file, `info` its status) as a special entry,
    /// never opened (sent only to a server with `specials`; the session leaves them out
    /// otherwise); returns why it was skipped, if it was.
    static func appendSpecial(_ entry: ManifestEntry, _ info: stat, to entries: inout PackedManifest) -> String? {
        guard let kind = FileStatus.special(info.st_mode) else { return "not a regular file or folder" }
        var special = entry
        (special.type, special.size, special.special, special.xattrs) = (.special, 0, kind, nil)
        special.device = kind.isDevice ? UInt64(info.st_rdev) : nil
        guard (try? entries.append(special)) != nil else { return "the manifest's paths exceed 4 GiB" }
        return nil
    }
}
