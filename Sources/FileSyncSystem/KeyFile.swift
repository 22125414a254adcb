import Crypto
import FileSyncCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A 32-byte key kept in a file as 64 hex digits and a newline, mode 0600.
public enum KeyFile {
    /// Reads the key at `path`; `kind` names the file in errors ("the secret file", "the key file").
    public static func load(_ path: String, kind: String = "the key file") throws -> [UInt8] {
        // Read with open(2) and read(2), so that a failure is said in the system's plain words
        // ("No such file or directory") rather than Foundation's "The operation could not be completed".
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSyncError(.invalidSetting, "cannot read \(kind) \(path)", errno: errno) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw FileSyncError(.invalidSetting, "cannot read \(kind) \(path)", errno: errno) }
            if got == 0 { break }
            count += got
        }
        let text = String(decoding: bytes[..<count], as: UTF8.self)
        guard let key = [UInt8](hex: text.trimmingCharacters(in: .whitespacesAndNewlines)), key.count == 32 else {
            throw FileSyncError(.invalidSetting, "\(kind) \(path) does not hold a key (64 hexadecimal digits)")
        }
        return key
    }

    /// The permission bits of `path` that let its group or others read or write it (0 when only its
    /// owner can, or when it cannot be examined).
    public static func exposedModeBits(_ path: String) -> UInt32 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return UInt32(info.st_mode) & 0o077
    }

    /// A fresh random key, not yet written anywhere.
    public static func generate() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    /// Writes a new random key to `path` (mode 0600, folder created 0700) and returns it.
    @discardableResult
    public static func create(_ path: String) throws -> [UInt8] {
        let key = generate()
        try write(key, to: path)
        return key
    }

    /// Writes `key` to `path` (mode 0600, folder created 0700).
    public static func write(_ key: [UInt8], to path: String) throws {
        try makeFolders(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        let text = key.hexString + "\n"
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw FileSyncError(.invalidSetting, "cannot write the key file \(path)") }
    }

    /// Creates `folder` and its missing parents, mode 0700, saying a failure in the system's words.
    private static func makeFolders(_ folder: String) throws {
        var info = stat()
        if folder.isEmpty || stat(folder, &info) == 0 { return }
        try makeFolders(URL(fileURLWithPath: folder).deletingLastPathComponent().path)
        guard mkdir(folder, 0o700) == 0 || errno == EEXIST else {
            throw FileSyncError(.invalidSetting, "cannot create the folder \(folder)", errno: errno)
        }
    }

    /// The key at `path`, created first if the file does not exist.
    public static func loadOrCreate(_ path: String) throws -> (key: [UInt8], created: Bool) {
        if FileManager.default.fileExists(atPath: path) { return (try load(path), false) }
        return (try create(path), true)
    }
}
