import Crypto
import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The client's ``ChunkMemo``s of its large files, kept between runs in
/// `<directory>/<client-id>/<hash of the path>.memo`, with the fingerprint key in `<directory>/key`
/// (16 random bytes, created on first use, mode 0600).
///
/// Only a cache: a memo that is missing, torn or stale costs the full cut and SHA-256 of the file,
/// never correctness, since each remembered chunk is used only while its fingerprint matches the
/// content read now.
struct ChunkCache: Sendable {
    let fingerprint: ChunkFingerprint
    private let folder: String

    /// Opens (creating if needed) the cache of client `id` under `directory`; `nil` when it cannot
    /// be used (the backup then simply cuts and hashes every large file in full).
    init?(directory: String, id: ClientID) {
        for path in [directory, directory + "/" + id.string] where mkdir(path, 0o700) != 0 && errno != EEXIST {
            if errno == ENOENT, Self.makeParents(of: path), mkdir(path, 0o700) == 0 { continue }
            return nil
        }
        guard let key = Self.loadOrCreateKey(directory + "/key"), let fingerprint = ChunkFingerprint(key: key) else {
            return nil
        }
        self.fingerprint = fingerprint
        folder = directory + "/" + id.string
    }

    /// The remembered chunks of the file at `path` (relative to the source), or none.
    func memo(for path: String) -> [ChunkMemo.Chunk] {
        guard let bytes = Self.read(file(for: path), limit: 64 << 20),
            let memo = ChunkMemo(decoding: bytes), memo.path == path
        else { return [] }
        return memo.chunks
    }

    /// Remembers `chunks` for the file at `path`, replacing the previous memo (written aside and
    /// renamed, so a reader never sees half of it; no sync: a memo lost in a crash costs a rehash).
    func remember(_ chunks: [ChunkMemo.Chunk], for path: String) {
        let target = file(for: path)
        let temporary = target + ".tmp"
        let bytes = ChunkMemo(path: path, chunks: chunks).encoded()
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let written = bytes.withUnsafeBytes { writeFully(fd, $0) }
        close(fd)
        if !written || rename(temporary, target) != 0 { unlink(temporary) }
    }

    /// Deletes the memos of every file but those of `manifest` (and any temporary left by a crash),
    /// so the cache follows the source instead of growing with every file it ever held. Returns
    /// how many memos were deleted.
    @discardableResult
    func prune(keeping manifest: PackedManifest) -> Int {
        var kept = Set<String>()
        for position in manifest.indices
        where manifest.type(at: position) == .file && manifest.size(at: position) >= ProtocolLimits.chunkedMinimumSize {
            kept.insert(Self.name(for: manifest.path(at: position)))
        }
        guard let stream = opendir(folder) else { return 0 }
        defer { closedir(stream) }
        var deleted = 0
        for entry in DirectoryEntries(stream) {
            // Memo names are hex: a name that is not UTF-8 is not one.
            guard let name = entry.name, name.hasSuffix(".memo") || name.hasSuffix(".memo.tmp"), !kept.contains(name)
            else { continue }
            if unlinkat(dirfd(stream), name, 0) == 0 { deleted += 1 }
        }
        return deleted
    }

    // MARK: - Private

    private func file(for path: String) -> String { folder + "/" + Self.name(for: path) }

    private static func name(for path: String) -> String {
        SHA256.hash(data: Array(path.utf8)).prefix(16).hexString + ".memo"
    }

    private static func makeParents(of path: String) -> Bool {
        var prefix = ""
        for component in path.split(separator: "/").dropLast() {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { return false }
        }
        return true
    }

    private static func loadOrCreateKey(_ path: String) -> [UInt8]? {
        if let key = read(path, limit: 64), key.count == ChunkFingerprint.keySize { return key }
        var key = [UInt8](repeating: 0, count: ChunkFingerprint.keySize)
        var generator = SystemRandomNumberGenerator()
        for index in key.indices { key[index] = generator.next() }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            // Another client created it first: use theirs.
            return errno == EEXIST
                ? read(path, limit: 64).flatMap { $0.count == ChunkFingerprint.keySize ? $0 : nil }
                : nil
        }
        defer { close(fd) }
        return key.withUnsafeBytes { writeFully(fd, $0) } ? key : nil
    }

    private static func read(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size <= limit else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        guard bytes.isEmpty || bytes.withUnsafeMutableBytes({ readFully(fd, into: $0, at: 0) }) else { return nil }
        return bytes
    }
}
