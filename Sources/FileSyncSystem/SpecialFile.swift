import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// FIFOs, sockets and device nodes made relative to a folder descriptor (`mknodat`), never opened:
/// the server's stored tree and a restore's target hold them as nodes, nothing reads or writes them.
public enum SpecialFile {
    /// Why ``make(_:in:kind:device:mode:mtimeNs:)`` failed.
    public struct Failure: Sendable, Equatable {
        /// The `errno` of the step that failed.
        public let code: Int32
        /// Whether it was making the node itself (`mknodat`): `EPERM` there means the process may
        /// not make a device, not that the folder refused the node.
        public let making: Bool
    }

    /// Makes `name` in `directory` a node of `kind` (a device with number `device`) with the
    /// permission bits `mode & 0o7777` and modification time `mtimeNs`, under a temporary name
    /// (`.filesync-node-…`) renamed over `name`: a file, symlink or node there is replaced
    /// atomically, a folder is left alone (`EISDIR`). Returns `nil`, or the step that failed and its
    /// `errno` (nothing is left behind then). A device needs the privilege to make one (`EPERM`).
    public static func make(
        _ name: String, in directory: Int32, kind: SpecialKind, device: UInt64, mode: UInt32, mtimeNs: Int64
    ) -> Failure? {
        var generator = SystemRandomNumberGenerator()
        let temporary = ".filesync-node-" + String(generator.next() as UInt64, radix: 16)
        let type = FileStatus.fileType(of: kind)
        guard mknodat(directory, temporary, type | mode_t(mode & 0o777), dev_t(device)) == 0 else {
            return Failure(code: errno, making: true)
        }
        var times = [timespec(nanosecondsSinceEpoch: mtimeNs), timespec(nanosecondsSinceEpoch: mtimeNs)]
        // The umask applied to mknodat; the special bits are not set by it.
        guard fchmodat(directory, temporary, mode_t(mode & 0o7777), 0) == 0,
            utimensat(directory, temporary, &times, AT_SYMLINK_NOFOLLOW) == 0,
            renameat(directory, temporary, directory, name) == 0
        else {
            let code = errno
            unlinkat(directory, temporary, 0)
            return Failure(code: code, making: false)
        }
        return nil
    }
}
