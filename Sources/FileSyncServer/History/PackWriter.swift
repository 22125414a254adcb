import Crypto
import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes one pack file: self-describing, immutable once named.
///
/// Layout: the magic `FSPACK01`; the chunks' bytes one after another; a footer of one record per
/// chunk (SHA-256, offset u64, length u32, big-endian); a trailer of the footer's offset (u64), the
/// chunk count (u32) and the magic `FSPKEND1`. The pack is written under a temporary name, synced,
/// renamed to the SHA-256 of all its bytes plus `.pack`, and its folder synced: a crash leaves a
/// temporary file (never read, removed by the pruner) or the whole pack.
final class PackWriter {
    /// One chunk of a pack.
    struct Entry: Sendable, Equatable {
        var hash: ChunkHash
        var offset: Int64
        var length: Int
    }

    static let magic = Array("FSPACK01".utf8)
    static let trailerMagic = Array("FSPKEND1".utf8)
    /// Footer record and trailer sizes.
    static let recordSize = ChunkHash.byteCount + 8 + 4
    static let trailerSize = 8 + 4 + 8

    private let directory: Int32
    private let display: String
    private let temporary: String
    private var fd: Int32
    private var hasher = SHA256()
    private(set) var entries: [Entry] = []
    private var held: Set<ChunkHash> = []
    /// Bytes written so far.
    private(set) var byteCount: Int64 = 0

    /// Starts a pack in the folder `directory` (the `packs` folder, which stays open meanwhile).
    init(directory: Int32, display: String) throws {
        self.directory = directory
        self.display = display
        temporary = HistoryIO.temporaryName(".pack")
        fd = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileSyncError.storage("create a pack in", display) }
        try Self.magic.withUnsafeBytes { try write($0) }
    }

    deinit { discard() }

    var isEmpty: Bool { entries.isEmpty }

    /// Whether this pack already holds `hash`.
    func contains(_ hash: ChunkHash) -> Bool { held.contains(hash) }

    /// Appends one chunk (once per hash).
    func append(_ hash: ChunkHash, _ bytes: UnsafeRawBufferPointer) throws {
        guard !held.contains(hash) else { return }
        let offset = byteCount
        try write(bytes)
        entries.append(Entry(hash: hash, offset: offset, length: bytes.count))
        held.insert(hash)
    }

    /// Writes the footer and trailer, syncs, names the pack and syncs the folder.
    ///
    /// - Returns: the pack's file name and its chunks; `nil` (nothing left behind) when empty.
    func finish() throws -> (name: String, entries: [Entry])? {
        guard !entries.isEmpty else {
            discard()
            return nil
        }
        var footer = ByteWriter()
        let footerOffset = byteCount
        for entry in entries {
            footer.bytes(entry.hash.bytes)
            footer.u64(UInt64(entry.offset))
            footer.u32(UInt32(entry.length))
        }
        footer.u64(UInt64(footerOffset))
        footer.u32(UInt32(entries.count))
        footer.bytes(Self.trailerMagic)
        try footer.output.withUnsafeBytes { try write($0) }
        guard fsync(fd) == 0 else { throw FileSyncError.storage("sync a pack in", display) }
        let name = hasher.finalize().hexString + ".pack"
        close(fd)
        fd = -1
        guard renameat(directory, temporary, directory, name) == 0 else {
            let code = errno
            unlinkat(directory, temporary, 0)
            throw FileSyncError.storage("name a pack in", display, errno: code)
        }
        try HistoryIO.syncDirectory(directory, display: display)
        return (name, entries)
    }

    /// Closes and deletes the unfinished pack.
    func discard() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlinkat(directory, temporary, 0)
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard writeFully(fd, bytes) else { throw FileSyncError.storage("write a pack in", display) }
        hasher.update(bufferPointer: bytes)
        byteCount += Int64(bytes.count)
    }
}
