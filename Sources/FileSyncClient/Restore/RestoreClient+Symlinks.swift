import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension RestoreClient {
    /// Makes the planned symlinks (entry numbers), each with its target verbatim and its own mtime,
    /// after the files and before the folders get their times. Their folders are reached without
    /// following a symlink (a link is never written through); a file or symlink in the way was
    /// accepted by the plan (`--overwrite`, or the same link from a cut run) and is replaced.
    func makeSymlinks(_ numbers: [Int], entries: [RestoreEntry], paths: [RelativePath]) -> [FileResult] {
        var failed: [FileResult] = []
        for number in numbers {
            let (entry, path) = (entries[number], paths[number])
            do {
                let parent = try folder.openFolder(path.parentComponents, create: true)
                defer { close(parent) }
                let code = Symlink.make(
                    String(path.lastComponent), in: parent, target: entry.target ?? "", mtimeNs: entry.mtimeNs)
                guard code == 0 else {
                    throw RestoreFolder.failure("cannot make the symlink \"\(path)\"", errno: code)
                }
                // The link's own owner, as root only.
                if let uid = entry.uid, let gid = entry.gid, geteuid() == 0,
                    fchownat(parent, String(path.lastComponent), uid, gid, AT_SYMLINK_NOFOLLOW) != 0
                {
                    throw RestoreFolder.failure("cannot set the owner of the symlink \"\(path)\"")
                }
            } catch {
                let failure = error as? FileSyncError ?? FileSyncError(.storageFailed, "\(error)")
                failed.append(FileResult(path: entry.path, error: ErrorMessage(failure)))
            }
        }
        return failed
    }
}
