import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `stat(2)` says of a file, in the units the protocol and the stores use. Built in one place
/// so that the platform's field names (the only `#if` about them) stay here.
public struct FileStatus: Sendable, Equatable {
    /// The kind of entry, from the `S_IFMT` bits.
    public enum Kind: Sendable, Equatable {
        case file, directory, symbolicLink, other
    }

    public var kind: Kind
    /// The permission bits, setuid, setgid and sticky included (`st_mode & 0o7777`).
    public var permissions: UInt32
    public var size: Int64
    /// Modification time, integer nanoseconds since the Unix epoch.
    public var mtimeNs: Int64
    /// Status-change time, integer nanoseconds since the Unix epoch: no one can set it back.
    public var ctimeNs: Int64
    public var inode: UInt64
    public var device: UInt64
    public var linkCount: UInt64
    public var uid: UInt32
    public var gid: UInt32
    /// Bytes actually allocated (`st_blocks * 512`): less than ``size`` for a sparse file.
    public var allocatedBytes: Int64
    /// For ``Kind/other``: a FIFO, socket or device, when it is one.
    public var special: SpecialKind?
    /// A device's number (`st_rdev`), 0 for anything else.
    public var rdev: UInt64

    public init(_ info: stat) {
        special = Self.special(info.st_mode)
        rdev = special?.isDevice == true ? UInt64(info.st_rdev) : 0
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .file
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symbolicLink
        default: kind = .other
        }
        permissions = UInt32(info.st_mode & 0o7777)
        size = Int64(info.st_size)
        #if canImport(Darwin)
            mtimeNs = epochNanoseconds(seconds: info.st_mtimespec.tv_sec, nanoseconds: info.st_mtimespec.tv_nsec)
            ctimeNs = epochNanoseconds(seconds: info.st_ctimespec.tv_sec, nanoseconds: info.st_ctimespec.tv_nsec)
        #else
            mtimeNs = epochNanoseconds(seconds: info.st_mtim.tv_sec, nanoseconds: info.st_mtim.tv_nsec)
            ctimeNs = epochNanoseconds(seconds: info.st_ctim.tv_sec, nanoseconds: info.st_ctim.tv_nsec)
        #endif
        inode = UInt64(info.st_ino)
        device = UInt64(info.st_dev)
        linkCount = UInt64(info.st_nlink)
        uid = info.st_uid
        gid = info.st_gid
        allocatedBytes = Int64(info.st_blocks) * 512
    }

    /// The special kind of the file type in `mode`, if it is one.
    public static func special(_ mode: mode_t) -> SpecialKind? {
        switch mode & S_IFMT {
        case S_IFIFO: .fifo
        case S_IFSOCK: .socket
        case S_IFCHR: .char
        case S_IFBLK: .block
        default: nil
        }
    }

    /// The file type bits (`S_IFMT`) of a special kind, for `mknod`.
    public static func fileType(of kind: SpecialKind) -> mode_t {
        switch kind {
        case .fifo: S_IFIFO
        case .socket: S_IFSOCK
        case .char: S_IFCHR
        case .block: S_IFBLK
        }
    }

    /// The status of the open file `fd` (`fstat`), or `nil` with `errno` set.
    public static func of(descriptor fd: Int32) -> FileStatus? {
        var info = stat()
        return fstat(fd, &info) == 0 ? FileStatus(info) : nil
    }

    /// The status of `name` in the folder `dirfd` without following a final symlink (`fstatat`
    /// with `AT_SYMLINK_NOFOLLOW`), or `nil` with `errno` set.
    public static func of(_ name: String, in dirfd: Int32) -> FileStatus? {
        var info = stat()
        return fstatat(dirfd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 ? FileStatus(info) : nil
    }

    /// The status of `path` without following a final symlink (`lstat`), or `nil` with `errno` set.
    public static func of(path: String) -> FileStatus? {
        var info = stat()
        return lstat(path, &info) == 0 ? FileStatus(info) : nil
    }
}

extension stat {
    /// The modification time as integer nanoseconds since the Unix epoch, as manifests carry it.
    public var mtimeNs: Int64 { FileStatus(self).mtimeNs }
}

/// Integer nanoseconds since the Unix epoch from a `timespec`'s two fields.
public func epochNanoseconds(seconds: Int, nanoseconds: Int) -> Int64 {
    Int64(seconds) * 1_000_000_000 + Int64(nanoseconds)
}
