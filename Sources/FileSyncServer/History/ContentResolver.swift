import Crypto
import FileSyncCore
import FileSyncSystem
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Produces the bytes of a file entry of any snapshot, chunk by chunk, each checked against its
/// SHA-256 before it is handed out.
///
/// A chunk comes from a pack when the index knows one, else from the plain file now at the same
/// path: at the chunk's offset while that file is still the one the snapshot took (same inode,
/// ctime and size: ``StoredFileIdentity``), otherwise by cutting the current file and finding the
/// hash. A source whose bytes hash differently is passed over for the next. The plain tree is walked
/// with `O_NOFOLLOW`, so a symlink is never followed.
struct ContentResolver {
    let store: HistoryStore

    /// A chunk no source could give.
    struct MissingChunk: Sendable, Equatable {
        var index: Int
        var hash: ChunkHash
        var offset: Int64
    }

    /// Calls `body` with each chunk's index and bytes (valid during the call), in file order.
    ///
    /// - Returns: the chunks that could not be produced (skipped; `body` is not called for them).
    func forEachChunk(
        of file: FileContent, at relativePath: String, _ body: (Int, UnsafeRawBufferPointer) throws -> Void
    ) throws -> [MissingChunk] {
        var sources = Sources(store: store, relativePath: relativePath, file: file)
        defer { sources.close() }
        var missing: [MissingChunk] = []
        var offset: Int64 = 0
        for (index, chunk) in file.chunks.enumerated() {
            if let bytes = try sources.chunk(chunk, at: offset) {
                try bytes.withUnsafeBytes { try body(index, $0) }
            } else {
                missing.append(MissingChunk(index: index, hash: chunk.hash, offset: offset))
            }
            offset += Int64(chunk.length)
        }
        return missing
    }

    /// The whole content, checked chunk by chunk and then against the file's SHA-256 (when it has one).
    ///
    /// - Throws: when a chunk is missing or the result does not hash to ``FileContent/sha256``.
    func contents(of file: FileContent, at relativePath: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        let missing = try forEachChunk(of: file, at: relativePath) { _, chunk in bytes += chunk }
        guard missing.isEmpty else {
            throw FileSyncError(.storageFailed, "\(missing.count) chunk(s) of \"\(relativePath)\" are missing")
        }
        guard file.sha256 == nil || bytes.withUnsafeBytes({ ChunkHash(of: $0) }) == file.sha256 else {
            throw FileSyncError(.checksumMismatch, "\"\(relativePath)\" does not match its SHA-256")
        }
        return bytes
    }

    /// Whether each chunk has a source, without reading chunk data where the index or the file's
    /// identity answers (a plain file of another identity is cut to know).
    func missingChunks(of file: FileContent, at relativePath: String) throws -> [MissingChunk] {
        var sources = Sources(store: store, relativePath: relativePath, file: file)
        defer { sources.close() }
        var missing: [MissingChunk] = []
        var offset: Int64 = 0
        for (index, chunk) in file.chunks.enumerated() {
            if try !sources.hasSource(chunk) {
                missing.append(MissingChunk(index: index, hash: chunk.hash, offset: offset))
            }
            offset += Int64(chunk.length)
        }
        return missing
    }
}

extension ContentResolver {
    /// The open sources of one file: its packs and the plain file.
    struct Sources {
        let store: HistoryStore
        let relativePath: String
        let file: FileContent
        /// Whether a chunk read in place from the plain file the snapshot took (same inode, ctime
        /// and size) is handed out without hashing it again. A restore sets it: its client checks
        /// the whole SHA-256 (and every chunk frame's hash) before the file appears; what comes
        /// from a pack is still checked. `check --read-data` leaves it off, so that it reads every byte.
        var trustsUnchangedPlainFile = false
        private var packs: [String: Int32] = [:]
        private var plain: Int32?
        private var plainOpened = false
        private var plainMatches = false
        /// Where each chunk of the current plain file is, by hash, once it was cut.
        private var plainChunks: [ChunkHash: (offset: Int64, length: Int)]?

        init(store: HistoryStore, relativePath: String, file: FileContent) {
            self.store = store
            self.relativePath = relativePath
            self.file = file
        }

        mutating func close() {
            for fd in packs.values { _ = Glibc.close(fd) }
            if let plain { _ = Glibc.close(plain) }
            packs = [:]
            plain = nil
        }

        /// The chunk's bytes from the first source that has them intact.
        mutating func chunk(_ chunk: ChunkEntry, at offset: Int64) throws -> [UInt8]? {
            for location in try store.index.locations(of: chunk.hash) where location.length == chunk.length {
                guard let fd = pack(location.pack),
                    let bytes = try? PackReader.read(fd, at: location.offset, count: location.length),
                    Self.matches(bytes, chunk.hash)
                else { continue }
                return bytes
            }
            openPlain()
            guard let plain else { return nil }
            if plainMatches, let bytes = try? PackReader.read(plain, at: offset, count: chunk.length),
                bytes.count == chunk.length, trustsUnchangedPlainFile || Self.matches(bytes, chunk.hash)
            {
                return bytes
            }
            guard let found = try cutPlain()[chunk.hash], found.length == chunk.length,
                let bytes = try? PackReader.read(plain, at: found.offset, count: found.length),
                Self.matches(bytes, chunk.hash)
            else { return nil }
            return bytes
        }

        /// Appends `count` bytes at `offset` of the plain file straight to `buffer`, when in-place
        /// reads are trusted and the file is the one the snapshot took; `false` (nothing appended)
        /// otherwise, or if the read fails.
        mutating func readInPlace(at offset: Int64, count: Int, into buffer: inout ByteBuffer) -> Bool {
            guard trustsUnchangedPlainFile else { return false }
            openPlain()
            guard plainMatches, let plain else { return false }
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                readFully(plain, into: UnsafeMutableRawBufferPointer(rebasing: raw[..<count]), at: offset) ? count : 0
            }
            return read == count
        }

        /// Whether some source claims the chunk (packs by the index, the plain file by its identity
        /// or its cut).
        mutating func hasSource(_ chunk: ChunkEntry) throws -> Bool {
            if try store.index.locations(of: chunk.hash).contains(where: { pack($0.pack) != nil }) { return true }
            openPlain()
            guard plain != nil else { return false }
            return try plainMatches || cutPlain()[chunk.hash] != nil
        }

        private mutating func pack(_ name: String) -> Int32? {
            if let fd = packs[name] { return fd }
            let fd = open(store.packsPath + "/" + name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            packs[name] = fd
            return fd
        }

        private mutating func openPlain() {
            guard !plainOpened else { return }
            plainOpened = true
            plain = store.openPlainFile(relativePath)
            if let plain {
                let size = file.chunks.reduce(0) { $0 + Int64($1.length) }
                plainMatches = StoredFileIdentity(size: size, mtimeNs: nil, inode: file.inode, ctimeNs: file.ctimeNs)
                    .matches(descriptor: plain)
            }
        }

        private mutating func cutPlain() throws -> [ChunkHash: (offset: Int64, length: Int)] {
            if let plainChunks { return plainChunks }
            var found: [ChunkHash: (offset: Int64, length: Int)] = [:]
            if let plain, let status = FileStatus.of(descriptor: plain) {
                _ = try? HistoryChunking.cut(plain, size: status.size) { offset, entry, _ in
                    found[entry.hash] = (offset, entry.length)
                }
            }
            plainChunks = found
            return found
        }

        private static func matches(_ bytes: [UInt8], _ hash: ChunkHash) -> Bool {
            bytes.withUnsafeBytes { ChunkHash(of: $0) } == hash
        }
    }
}
