import FileSyncCore
import FileSyncSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The key each client id is bound to, `<root>/.filesync/<client-id>/client.key` (mode 0600):
/// the first client to use an id binds it; later sessions with that id must prove the same key.
struct ClientKeyStore {
    let root: String

    func path(for id: ClientID) -> String { ClientStateDirectory(root: root, id: id).key }

    /// The key bound to `id`, if any.
    func key(for id: ClientID) throws -> [UInt8]? {
        let path = path(for: id)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try KeyFile.load(path)
    }

    /// Binds `id` to `key` unless another key was bound meanwhile; returns the key now bound.
    func bind(_ id: ClientID, to key: [UInt8]) throws -> [UInt8] {
        let path = path(for: id)
        // A server-side failure, not the client's: storageFailed, which clients retry (§9).
        try ConfigFile.makeFolders(ClientStateDirectory(root: root, id: id).path, mode: 0o700, code: .storageFailed)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST, let bound = try self.key(for: id) { return bound }
            throw FileSyncError.storage("bind the key of client", id.string)
        }
        let text = Array((key.hexString + "\n").utf8)
        let written = write(fd, text, text.count)
        fsync(fd)
        close(fd)
        guard written == text.count else { throw FileSyncError.storage("bind the key of client", id.string) }
        return key
    }
}
