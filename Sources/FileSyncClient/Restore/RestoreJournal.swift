import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `DIR/.filesync-restore/journal`: one `<sha256> <path>` line per file a restore put in place,
/// synced after each batch of renames, so a cut restore run again knows what it finished. In the path, `\`
/// is written `\\` and a newline `\n`, so that any valid path fits on one line.
public struct RestoreJournal {
    static let fileName = "journal"

    /// The files of the journal in `folder`: path → SHA-256 (empty when there is none).
    public static func load(from folder: RestoreFolder) -> [String: String] {
        guard let state = try? folder.stateFolder(create: false), state >= 0 else { return [:] }
        let fd = openat(state, fileName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return [:] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += block[..<count]
        }
        var files: [String: String] = [:]
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard line.count > 65, line[line.startIndex + 64] == UInt8(ascii: " ") else { continue }
            let sha256 = String(decoding: line.prefix(64), as: UTF8.self)
            files[unescape(line.dropFirst(65))] = sha256
        }
        return files
    }

    private let fd: Int32

    /// Opens the journal of `folder` for appending, creating it.
    init(folder: RestoreFolder) throws {
        let state = try folder.stateFolder(create: true)
        fd = openat(state, Self.fileName, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RestoreFolder.failure("cannot open the restore journal") }
    }

    func finish() { close(fd) }

    /// Appends files (path, SHA-256) and syncs the journal once.
    func append(_ files: [(path: String, sha256: String)]) throws {
        guard !files.isEmpty else { return }
        var lines: [UInt8] = []
        for file in files {
            lines += Array(file.sha256.utf8) + [UInt8(ascii: " ")]
            for byte in file.path.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): lines += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case UInt8(ascii: "\n"): lines += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                default: lines.append(byte)
                }
            }
            lines.append(UInt8(ascii: "\n"))
        }
        guard lines.withUnsafeBytes({ writeFully(fd, $0) }), fdatasync(fd) == 0 else {
            throw RestoreFolder.failure("cannot write the restore journal")
        }
    }

    private static func unescape(_ bytes: ArraySlice<UInt8>) -> String {
        var result: [UInt8] = []
        var escaped = false
        for byte in bytes {
            if escaped {
                result.append(byte == UInt8(ascii: "n") ? UInt8(ascii: "\n") : byte)
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else {
                result.append(byte)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }
}
