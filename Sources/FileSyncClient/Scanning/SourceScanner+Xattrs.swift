import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SourceScanner {
    /// Gives the file or folder `name` (`info`) its extended attributes; a warning for those left out.
    func addAttributes(
        of name: String, _ info: stat, in directory: Int32, path: String, to entry: inout ManifestEntry,
        warnings: inout [FileResult]
    ) {
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFDIR else { return }
        let (attributes, warning) = Self.attributes(of: name, in: directory)
        entry.xattrs = attributes
        if let warning {
            warnings.append(FileResult(path: path, error: ErrorMessage(code: "skipped", message: warning)))
        }
    }

    /// The extended attributes of `name` in `directory` that fit the bounds of Protocol.md §6.9,
    /// and a warning naming those left out (the entry itself is backed up all the same).
    static func attributes(of name: String, in directory: Int32) -> ([ExtendedAttribute], String?) {
        let read = ExtendedAttributes.read(in: directory, name: name)
        guard read.boundsViolation != nil else { return (read, nil) }
        var kept: [ExtendedAttribute] = []
        var left: [String] = []
        for attribute in read {
            if (kept + [attribute]).boundsViolation == nil {
                kept.append(attribute)
            } else {
                left.append(attribute.name)
            }
        }
        let list = left.joined(separator: ", ")
        return (kept, "extended attributes over the limits (64 of 64 KiB, 256 KiB in all) are not backed up: \(list)")
    }
}
