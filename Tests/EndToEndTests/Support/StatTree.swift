import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A stat-level picture of a tree, walked with `lstat` and never following a symlink: for every
/// path below the root, its type, permission bits, owner, modification time in nanoseconds, a
/// symlink's target and a file's SHA-256. Compared field by field, for round-trip tests.
struct StatTree: Equatable {
    struct Entry: Equatable, CustomStringConvertible {
        var type: String
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var mtimeNs: Int64
        var target: String?
        var sha256: String?

        var description: String {
            "\(type) \(String(mode, radix: 8)) \(uid):\(gid) \(mtimeNs)\(target.map { " -> " + $0 } ?? "")"
                + (sha256.map { " " + $0.prefix(12) } ?? "")
        }
    }

    var entries: [String: Entry] = [:]

    /// What to compare: folders' mtimes only where the server keeps them, owners only as root.
    struct Fields {
        var folderTimes = true
        var owners = true
    }

    init(of root: String) throws {
        try walk(root, prefix: "")
    }

    private mutating func walk(_ folder: String, prefix: String) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        for name in names {
            let path = folder + "/" + name
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { throw TestFailure("cannot lstat \(path)") }
            var entry = Entry(
                type: "other", mode: UInt32(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid,
                mtimeNs: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                entry.type = "file"
                entry.sha256 = try TreeSnapshot.sha256(of: path)
            case S_IFDIR:
                entry.type = "dir"
                try walk(path, prefix: relative)
            case S_IFLNK:
                entry.type = "symlink"
                entry.mode = 0  // Linux ignores a symlink's mode
                entry.target = try FileManager.default.destinationOfSymbolicLink(atPath: path)
            case S_IFIFO: entry.type = "fifo"
            case S_IFCHR, S_IFBLK:
                entry.type = (info.st_mode & S_IFMT == S_IFCHR ? "char " : "block ") + String(info.st_rdev, radix: 16)
            default: break
            }
            entries[relative] = entry
        }
    }

    /// The paths whose entries differ in the compared fields, each with both sides, for readable failures.
    func differences(from other: StatTree, comparing fields: Fields = Fields()) -> [String] {
        var result: [String] = []
        for path in Set(entries.keys).union(other.entries.keys).sorted() {
            guard var mine = entries[path], var theirs = other.entries[path] else {
                result.append(
                    "\(path): \(entries[path]?.description ?? "missing") vs \(other.entries[path]?.description ?? "missing")"
                )
                continue
            }
            if !fields.owners { (mine.uid, mine.gid, theirs.uid, theirs.gid) = (0, 0, 0, 0) }
            if !fields.folderTimes && mine.type == "dir" { (mine.mtimeNs, theirs.mtimeNs) = (0, 0) }
            if mine != theirs { result.append("\(path): \(mine) vs \(theirs)") }
        }
        return result
    }
}

/// Sets the modification time of `path` itself (a symlink's own, not its target's).
func setTime(_ path: String, seconds: Int, nanoseconds: Int) {
    var times = [timespec(tv_sec: seconds, tv_nsec: nanoseconds), timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
    utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
}
