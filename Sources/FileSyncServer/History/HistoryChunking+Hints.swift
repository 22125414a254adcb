import Crypto
import FileSyncCore
import FileSyncSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension HistoryChunking {
    /// The cut of a file whose chunk list and whole SHA-256 the backup session recorded as it wrote
    /// it (``ChunkCatalog``), checked without hashing: the file is read once and cut with
    /// ``cutter``, and only the boundaries are compared with `expected`. Equal boundaries mean the
    /// recorded hashes are those of this cut (each was checked against its bytes when they arrived,
    /// and the caller has checked that the file is unchanged since: same inode, ctime, size and
    /// mtime). A client that cuts otherwise gets `nil`, and the caller cuts and hashes as usual.
    /// Without a recorded `sha256` (a file patched in place), the whole content is hashed on the
    /// way: one hash instead of two.
    ///
    /// - Returns: `nil` when a boundary differs, the file is shorter or longer than the list, or it
    ///   is a single-chunk file (those are cut by hashing alone, which costs no more).
    static func cut(_ fd: Int32, size: Int64, expecting expected: [ChunkEntry], sha256: ChunkHash?) throws -> Cut? {
        guard size >= Int64(singleChunkLimit), !expected.isEmpty else { return nil }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(8 << 20, cutter.maxSize * 4), alignment: 16)
        defer { buffer.deallocate() }
        var (start, end, fileOffset) = (0, 0, Int64(0))
        var atEnd = false
        var hasher: SHA256? = sha256 == nil ? SHA256() : nil
        for chunk in expected {
            if end - start < cutter.maxSize && !atEnd {
                (start, end, atEnd) = try refill(buffer, fd: fd, start: start, end: end, fileOffset: fileOffset)
            }
            let available = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
            guard !available.isEmpty, cutter.cut(available) == chunk.length else { return nil }
            hasher?.update(bufferPointer: UnsafeRawBufferPointer(rebasing: available[..<chunk.length]))
            start += chunk.length
            fileOffset += Int64(chunk.length)
        }
        guard fileOffset == size, start == end else { return nil }
        if !atEnd {
            // The list ended where the file should: make sure nothing follows.
            var probe: UInt8 = 0
            guard pread(fd, &probe, 1, off_t(fileOffset)) == 0 else { return nil }
        }
        guard let whole = sha256 ?? hasher.map({ ChunkHash($0.finalize()) }) else { return nil }
        return Cut(sha256: whole, chunks: expected, size: size)
    }

    /// Whether `chunks` can be a cut of a `size`-byte file by ``cutter``: their lengths add up to
    /// `size` and none is longer than the cutter's maximum (nor empty).
    static func isPlausible(_ chunks: [ChunkEntry], size: Int64) -> Bool {
        var total: Int64 = 0
        for chunk in chunks {
            guard chunk.length > 0, chunk.length <= cutter.maxSize else { return false }
            total += Int64(chunk.length)
        }
        return total == size
    }

    /// Moves the unread bytes to the buffer's front and reads after them, from file offset
    /// `fileOffset + (end - start)`, until the buffer is full or the file ends.
    private static func refill(
        _ buffer: UnsafeMutableRawBufferPointer, fd: Int32, start: Int, end: Int, fileOffset: Int64
    ) throws -> (start: Int, end: Int, atEnd: Bool) {
        let kept = end - start
        if kept > 0, start > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: kept) }
        var filled = kept
        var readOffset = fileOffset + Int64(kept)
        while filled < buffer.count {
            let count = pread(fd, buffer.baseAddress! + filled, buffer.count - filled, off_t(readOffset))
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw FileSyncError.storage("read", "a stored file") }
            if count == 0 { return (0, filled, true) }
            filled += count
            readOffset += Int64(count)
        }
        return (0, filled, false)
    }
}
