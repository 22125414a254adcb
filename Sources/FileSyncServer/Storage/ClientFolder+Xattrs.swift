import FileSyncCore
import FileSyncSystem

extension ClientFolder {
    /// Gives each file or folder the manifest's extended attributes (Protocol.md §6.9): those that
    /// differ are set, recorded ones the entry lacks are removed, relative to the parent's
    /// descriptor and never following the entry; anything of another kind at the path is skipped.
    /// `security.capability` is touched only when `capabilities` (a root server that applies
    /// owners). Returns each path with the attributes that failed.
    func setXattrs(_ entries: [ManifestEntry], capabilities: Bool) -> [(path: String, names: [String])] {
        var failed: [(path: String, names: [String])] = []
        for entry in entries {
            guard let path = try? RelativePath(validating: entry.path),
                let parent = try? parentDirectory(of: path, create: false)
            else { continue }
            let name = String(path.lastComponent)
            guard let status = FileStatus.of(name, in: parent),
                status.kind == (entry.type == .dir ? .directory : .file)
            else { continue }
            let names = ExtendedAttributes.apply(entry.xattrs ?? [], in: parent, name: name) {
                capabilities || $0 != ExtendedAttribute.capability
            }
            if !names.isEmpty { failed.append((entry.path, names)) }
        }
        return failed
    }
}
