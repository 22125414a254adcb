import Crypto
import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads the packs ``PackWriter`` wrote: their footer (to rebuild the index) and single chunks.
enum PackReader {
    /// The chunks listed in the footer of the pack open as `fd`, checked for consistency (every
    /// chunk inside the data area).
    static func entries(of fd: Int32) throws -> [PackWriter.Entry] {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileSyncError.storage("stat", "a pack") }
        let size = Int64(info.st_size)
        let malformed = FileSyncError(.storageFailed, "a pack's footer is malformed")
        let headerSize = Int64(PackWriter.magic.count)
        guard size >= headerSize + Int64(PackWriter.trailerSize) else { throw malformed }
        let trailer = try read(fd, at: size - Int64(PackWriter.trailerSize), count: PackWriter.trailerSize)
        var reader = ByteReader(trailer)
        let footerOffset = Int64(try reader.u64())
        let count = Int64(try reader.u32())
        guard try reader.bytes(8) == PackWriter.trailerMagic,
            footerOffset >= headerSize,
            footerOffset + count * Int64(PackWriter.recordSize) + Int64(PackWriter.trailerSize) == size
        else { throw malformed }
        var footer = ByteReader(try read(fd, at: footerOffset, count: Int(count) * PackWriter.recordSize))
        var entries: [PackWriter.Entry] = []
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            let hash = try footer.hash()
            let offset = Int64(try footer.u64())
            let length = Int(try footer.u32())
            guard offset >= headerSize, offset + Int64(length) <= footerOffset else { throw malformed }
            entries.append(PackWriter.Entry(hash: hash, offset: offset, length: length))
        }
        return entries
    }

    /// `count` bytes of `fd` at `offset`.
    static func read(_ fd: Int32, at offset: Int64, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let complete = bytes.withUnsafeMutableBytes { $0.isEmpty || readFully(fd, into: $0, at: offset) }
        guard complete else { throw FileSyncError.storage("read", "a pack") }
        return bytes
    }

    /// Whether the pack's bytes still hash to its name.
    static func verifyName(of fd: Int32, name: String) -> Bool {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return false }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            offset += Int64(count)
        }
        return hasher.finalize().hexString + ".pack" == name
    }
}
