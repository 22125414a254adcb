import FileSyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a file once, front to back, and splits it into content-defined chunks with their SHA-256.
///
/// Large reads into one reused buffer; the bytes of a chunk stay valid until the next call.
struct ChunkReader: ~Copyable {
    private let fd: Int32
    private let cutter: ChunkCutter
    private let buffer: UnsafeMutableRawBufferPointer
    /// Valid bytes are `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    private var atEOF = false
    /// File offset of `buffer[start]`.
    private(set) var offset: Int64 = 0

    /// One chunk: where it starts in the file, its entry, and its bytes (valid until the next call).
    struct Chunk {
        var offset: Int64
        var entry: ChunkEntry
        var bytes: UnsafeRawBufferPointer
    }

    init(fd: Int32, cutter: ChunkCutter = .standard) {
        self.fd = fd
        self.cutter = cutter
        buffer = .allocate(byteCount: max(8 << 20, cutter.maxSize * 4), alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The next chunk, or `nil` at the end of the file.
    ///
    /// - Throws: the read error, as an `errno` value wrapped in ``FileSyncError``.
    mutating func next() throws -> Chunk? {
        if end - start < cutter.maxSize && !atEOF { try refill() }
        guard end > start else { return nil }
        let available = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
        let length = cutter.cut(available)
        let bytes = UnsafeRawBufferPointer(rebasing: available[..<length])
        let chunk = Chunk(offset: offset, entry: ChunkEntry(length: length, hash: ChunkHash(of: bytes)), bytes: bytes)
        start += length
        offset += Int64(length)
        return chunk
    }

    private mutating func refill() throws {
        if start > 0 {
            let count = end - start
            if count > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: count) }
            start = 0
            end = count
        }
        while end < buffer.count {
            let count = read(fd, buffer.baseAddress! + end, buffer.count - end)
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSyncError(.storageFailed, "read failed: \(String(cString: strerror(errno)))")
            }
            if count == 0 {
                atEOF = true
                return
            }
            end += count
        }
    }
}
