import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SourceScanner {
    /// Why a symlink cannot be backed up.
    struct SymlinkProblem: Error {
        var message: String
    }

    /// Appends the symlink `name` to `entries`; returns why it was skipped, if it was.
    static func appendSymlink(
        _ name: String, in directory: Int32, path: String, info: stat, to entries: inout PackedManifest
    ) -> String? {
        switch symlink(name, in: directory, path: path, info: info) {
        case .success(let entry):
            return (try? entries.append(entry)) == nil ? "the manifest's paths exceed 4 GiB" : nil
        case .failure(let problem): return problem.message
        }
    }

    /// The manifest entry of the symlink `name` in the folder `directory`: its target text as
    /// `readlinkat` gives it (relative or absolute, dangling or not; the link is never followed).
    /// A target that is not UTF-8 or is empty cannot travel in a manifest.
    static func symlink(
        _ name: String, in directory: Int32, path: String, info: stat
    ) -> Swift.Result<ManifestEntry, SymlinkProblem> {
        guard let bytes = Symlink.target(of: name, in: directory) else {
            return .failure(SymlinkProblem(message: "cannot read the symlink: \(FileSyncError.errnoText(errno))"))
        }
        guard let target = String(validating: bytes, as: UTF8.self), !bytes.isEmpty,
            bytes.count <= ManifestEntry.maxTargetBytes
        else {
            return .failure(SymlinkProblem(message: "the symlink's target is not valid UTF-8"))
        }
        return .success(
            ManifestEntry(
                path: path, type: .symlink, size: Int64(bytes.count), mtimeNs: info.mtimeNs,
                mode: UInt32(info.st_mode & 0o7777), target: target, uid: info.st_uid, gid: info.st_gid))
    }
}
