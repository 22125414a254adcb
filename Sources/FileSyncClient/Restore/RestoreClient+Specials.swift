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

    /// Makes the planned FIFOs, sockets and devices (entry numbers) with their mode, mtime and, as
    /// root, owner, after the files and before the folders get their times; never opened. A socket
    /// is made as the node it was (`mknodat`, any user may), for the program that will listen on it
    /// to replace; a device when not run as root is reported skipped.
    func makeSpecials(_ numbers: [Int], entries: [RestoreEntry], paths: [RelativePath]) -> SpecialsMade {
        var result = SpecialsMade()
        let root = geteuid() == 0
        for number in numbers {
            let (entry, path) = (entries[number], paths[number])
            guard let kind = entry.special else { continue }
            if kind.isDevice && !root {
                let reason = "device nodes are made as root only"
                result.skipped.append(
                    FileResult(path: entry.path, error: ErrorMessage(code: "skipped", message: reason)))
                continue
            }
            do {
                let parent = try folder.openFolder(path.parentComponents, create: true)
                defer { close(parent) }
                let name = String(path.lastComponent)
                let failure = SpecialFile.make(
                    name, in: parent, kind: kind, device: entry.device ?? 0, mode: entry.mode, mtimeNs: entry.mtimeNs)
                if let failure {
                    throw RestoreFolder.failure("cannot make the \(kind) \"\(path)\"", errno: failure.code)
                }
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

extension RestoreClient {
    /// Makes the planned hard links (entry numbers), each another name of a regular file listed
    /// earlier in this restore and now in place, after the files: `linkat` under a temporary name
    /// renamed over the path, both ways walked without following a symlink. A link whose target
    /// is not such a file fails.
    func makeHardLinks(_ numbers: [Int], entries: [RestoreEntry], paths: [RelativePath]) -> SpecialsMade {
        var result = SpecialsMade()
        var files: [String: Int] = [:]
        for (number, entry) in entries.enumerated() where entry.type == "file" { files[entry.path] = number }
        for number in numbers {
            let (entry, path) = (entries[number], paths[number])
            do {
                guard let first = entry.target.flatMap({ files[$0] }), first < number else {
                    throw FileSyncError(.typeConflict, "the hard link \"\(path)\" names no file of this restore")
                }
                let targetParent = try folder.openFolder(paths[first].parentComponents, create: false)
                defer { close(targetParent) }
                let parent = try folder.openFolder(path.parentComponents, create: true)
                defer { close(parent) }
                let targetName = String(paths[first].lastComponent)
                guard let target = FileStatus.of(targetName, in: targetParent), target.kind == .file else {
                    throw FileSyncError(.typeConflict, "the target of the hard link \"\(path)\" was not restored")
                }
                // Made by a cut run of this restore (rename would keep both names and do nothing).
                if let existing = FileStatus.of(String(path.lastComponent), in: parent),
                    existing.inode == target.inode, existing.device == target.device
                {
                    result.made += 1
                    continue
                }
                var generator = SystemRandomNumberGenerator()
                let temporary = ".filesync-link-" + String(generator.next() as UInt64, radix: 16)
                guard linkat(targetParent, targetName, parent, temporary, 0) == 0 else {
                    throw RestoreFolder.failure("cannot link \"\(path)\"")
                }
                guard renameat(parent, temporary, parent, String(path.lastComponent)) == 0 else {
                    let failure = RestoreFolder.failure("cannot link \"\(path)\"")
                    unlinkat(parent, temporary, 0)
                    throw failure
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
