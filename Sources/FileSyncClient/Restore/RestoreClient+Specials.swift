import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension RestoreClient {
    /// What making the special files did.
    struct SpecialsMade {
        var made = 0
        var failed: [FileResult] = []
        var skipped: [FileResult] = []
    }

    /// Makes the planned FIFOs and devices (entry numbers) with their mode, mtime and, as root,
    /// owner, after the files and before the folders get their times; never opened. A socket is
    /// reported skipped (only the program that listens on one can make it), as is a device when
    /// not run as root.
    func makeSpecials(_ numbers: [Int], entries: [RestoreEntry], paths: [RelativePath]) -> SpecialsMade {
        var result = SpecialsMade()
        let root = geteuid() == 0
        for number in numbers {
            let (entry, path) = (entries[number], paths[number])
            guard let kind = entry.special else { continue }
            if kind == .socket || (kind.isDevice && !root) {
                let reason =
                    kind == .socket
                    ? "a socket is made by the program that listens on it" : "device nodes are made as root only"
                result.skipped.append(
                    FileResult(path: entry.path, error: ErrorMessage(code: "skipped", message: reason)))
                continue
            }
            do {
                let parent = try folder.openFolder(path.parentComponents, create: true)
                defer { close(parent) }
                let name = String(path.lastComponent)
                let code = SpecialFile.make(
                    name, in: parent, kind: kind, device: entry.device ?? 0, mode: entry.mode, mtimeNs: entry.mtimeNs)
                guard code == 0 else { throw RestoreFolder.failure("cannot make the \(kind) \"\(path)\"", errno: code) }
                if let uid = entry.uid, let gid = entry.gid, root,
                    fchownat(parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0
                {
                    throw RestoreFolder.failure("cannot set the owner of \"\(path)\"")
                }
                result.made += 1
            } catch {
                let failure = error as? FileSyncError ?? FileSyncError(.storageFailed, "\(error)")
                result.failed.append(FileResult(path: entry.path, error: ErrorMessage(failure)))
            }
        }
        return result
    }
}
