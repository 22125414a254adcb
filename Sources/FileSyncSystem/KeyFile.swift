import Crypto
import FileSyncCore
import Foundation

/// A 32-byte key kept in a file as 64 hex digits and a newline, mode 0600.
public enum KeyFile {
    /// Reads the key at `path`.
    public static func load(_ path: String) throws -> [UInt8] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw FileSyncError(.invalidSetting, "cannot read the key file \(path): \(error.localizedDescription)")
        }
        guard let bytes = [UInt8](hex: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw FileSyncError(.invalidSetting, "\(path) does not hold a key (64 hexadecimal digits)")
        }
        return bytes
    }

    /// Writes a new random key to `path` (mode 0600, folder created 0700) and returns it.
    @discardableResult
    public static func create(_ path: String) throws -> [UInt8] {
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let text = key.hexString + "\n"
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw FileSyncError(.invalidSetting, "cannot write the key file \(path)") }
        return key
    }

    /// The key at `path`, created first if the file does not exist.
    public static func loadOrCreate(_ path: String) throws -> (key: [UInt8], created: Bool) {
        if FileManager.default.fileExists(atPath: path) { return (try load(path), false) }
        return (try create(path), true)
    }
}
