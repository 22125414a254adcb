#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Opening a stored regular file by name without ever following a symlink.
public enum RegularFile {
    /// Opens `name` in the folder `dirfd` for reading (`O_NOFOLLOW`, and `O_NONBLOCK` so that a FIFO
    /// put there cannot block the open), and keeps it only when `fstat` says it is a regular file;
    /// `nil` otherwise. The caller closes the descriptor.
    public static func openForReading(_ name: String, in dirfd: Int32) -> Int32? {
        let fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        guard FileStatus.of(descriptor: fd)?.kind == .file else {
            close(fd)
            return nil
        }
        return fd
    }
}
