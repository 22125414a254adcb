import FileSyncCore
import FileSyncSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The server's id (`OFFER.serverId`, `READY.serverId`), kept in `server.id` beside the TLS key so
/// that it stays the same across restarts however the server is configured (flags only, a config
/// file, or setup): clients recognise a server by it.
///
/// The file holds the id, a lowercase UUID, and a newline; it is written once, synced and renamed
/// into place, and never rewritten.
public enum ServerIDFile {
    /// The file's name in the server's state folder.
    public static let name = "server.id"

    /// The id in `folder/server.id`, created there (with the folder) when there is none yet.
    ///
    /// - Throws: `invalidSetting` when the file exists but does not hold a lowercase UUID, or
    ///   cannot be read or written.
    public static func loadOrCreate(in folder: String) throws -> String {
        let path = folder + "/" + name
        if let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
            guard isValid(text) else {
                throw FileSyncError(.invalidSetting, "\(path) does not hold a server id (a lowercase UUID)")
            }
            return text
        }
        let id = UUID().uuidString.lowercased()
        try write(id, to: path, in: folder)
        return id
    }

    /// Whether `text` is a UUID in the lowercase form the server writes.
    static func isValid(_ text: String) -> Bool {
        text.utf8.count == 36 && UUID(uuidString: text) != nil && text == text.lowercased()
    }

    private static func write(_ id: String, to path: String, in folder: String) throws {
        try ConfigFile.makeFolders(folder, mode: 0o700)
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("create", temporary) }
        let bytes = Array((id + "\n").utf8)
        let written = bytes.withUnsafeBytes { writeFully(fd, $0) } && fsync(fd) == 0
        close(fd)
        guard written, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw failure("write", path)
        }
        let directory = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    private static func failure(_ action: String, _ path: String) -> FileSyncError {
        FileSyncError(.invalidSetting, "cannot \(action) \(path)", errno: errno)
    }
}
