#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Symlinks read and made relative to a folder descriptor, never followed: the server's stored
/// tree and a restore's target hold them as links, not as what they point to.
public enum Symlink {
    /// The target bytes of the symlink `name` in `directory` (`readlinkat`), or `nil` with `errno`
    /// set (`EINVAL` when it is not a symlink).
    public static func target(of name: String, in directory: Int32) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 4097)
        let count = buffer.withUnsafeMutableBytes { readlinkat(directory, name, $0.baseAddress!, $0.count) }
        guard count >= 0, count < buffer.count else { return nil }
        return Array(buffer.prefix(count))
    }

    /// Makes `name` in `directory` a symlink to `target` with modification time `mtimeNs` (set with
    /// `utimensat` and `AT_SYMLINK_NOFOLLOW`: the link's own time). Where something is already at
    /// `name`, a file or symlink is replaced atomically: the link is made under a temporary name
    /// (`.filesync-link-…`), its time set, then renamed over `name`; a folder is left alone (the
    /// rename fails with `EISDIR`). Returns `0`, or the `errno` of the step that failed (nothing is
    /// left behind then).
    public static func make(_ name: String, in directory: Int32, target: String, mtimeNs: Int64) -> Int32 {
        var times = [timespec(nanosecondsSinceEpoch: mtimeNs), timespec(nanosecondsSinceEpoch: mtimeNs)]
        if symlinkat(target, directory, name) == 0 {
            return utimensat(directory, name, &times, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno
        }
        guard errno == EEXIST else { return errno }
        var generator = SystemRandomNumberGenerator()
        let temporary = ".filesync-link-" + String(generator.next() as UInt64, radix: 16)
        guard symlinkat(target, directory, temporary) == 0 else { return errno }
        guard utimensat(directory, temporary, &times, AT_SYMLINK_NOFOLLOW) == 0,
            renameat(directory, temporary, directory, name) == 0
        else {
            let code = errno
            unlinkat(directory, temporary, 0)
            return code
        }
        return 0
    }
}

extension timespec {
    /// The time `nanoseconds` after the Unix epoch (before it when negative), normalised.
    public init(nanosecondsSinceEpoch nanoseconds: Int64) {
        let (seconds, remainder) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        self.init(tv_sec: Int(seconds), tv_nsec: Int(remainder))
        if tv_nsec < 0 {
            tv_sec -= 1
            tv_nsec += 1_000_000_000
        }
    }
}
